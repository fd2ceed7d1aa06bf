package io.skipllm.bench;

import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.Generator;
import io.skipllm.model.Model;
import io.skipllm.model.ShippedModel;
import io.skipllm.planner.SkipStrategy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Lossless mode (self-speculative decoding) against full-depth greedy decoding on real prompts: the
 * translation prompts of a data file's first verses, in batches, every configuration run on each batch
 * in turn (side by side, so drift on a shared machine hits all alike), for several rounds. Reports
 * decode tokens/s, the speedup over full depth of the same rounds, the acceptance rate per draft
 * position, and how many outputs differ from full depth's (lossless: none).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp engine-bench/target/benchmarks.jar io.skipllm.bench.LosslessBenchmark \
 *   --model models/translation/unified-2x --data models/translation/data/test.jsonl --verses 100 \
 *   --batch-sizes 1,8 --speedups 2,3 --draft-tokens 1,2,3,4 --rounds 3 --json out.json
 * </pre>
 */
public final class LosslessBenchmark {

    /** One configuration's totals over the recorded rounds. */
    private static final class Tally {
        final GenerationConfig config;
        double decodeMillis;
        long decodeTokens;
        /** Drafting counts over the recorded rounds; null for the full-depth configuration. */
        GenerationResult.Speculation speculation;
        int differing;
        int compared;

        Tally(GenerationConfig config) {
            this.config = config;
        }

        void add(List<GenerationResult> results) {
            decodeMillis += results.get(0).timing().decodeMillis();
            decodeTokens += results.get(0).timing().decodeTokens();
            GenerationResult.Speculation s = results.get(0).speculation();  // shared by the batch
            if (s != null) {
                speculation = speculation == null ? s : speculation.plus(s);
            }
        }

        double tokensPerS() {
            return decodeTokens * 1000.0 / decodeMillis;
        }
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args = BenchArgs.parse(argv);
        int verses = args.integer("verses", 100);
        int rounds = args.integer("rounds", 3);
        int maxNew = args.integer("max-new-tokens", 96);
        List<Integer> batchSizes = args.integers("batch-sizes", "1,8");
        List<Double> speedups = args.numbers("speedups", "2,3");
        List<Integer> draftTokens = args.integers("draft-tokens", "1,2,3,4");
        List<String> lines = Files.readAllLines(Path.of(args.string("data", "models/translation/data/test.jsonl")));
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Model model = args.model()) {
            Generator generator = model.generator();
            List<int[]> prompts = new ArrayList<>();
            for (String line : lines.subList(0, Math.min(verses, lines.size()))) {
                String source = BenchArgs.JSON.readTree(line).get("es").asText();
                prompts.add(model.tokenizer().orElseThrow().encode(
                        ShippedModel.PROMPT_TEMPLATE.replace("{source}", source)));
            }
            for (int batch : batchSizes) {
                List<Tally> tallies = new ArrayList<>();
                GenerationConfig full = GenerationConfig.builder().maxNewTokens(maxNew).build();
                tallies.add(new Tally(full));
                for (double speedup : speedups) {
                    for (int k : draftTokens) {
                        tallies.add(new Tally(full.toBuilder().skipPlan(SkipStrategy.UNIFIED, speedup).lossless(true)
                                .draftTokens(k).build()));
                    }
                }
                for (int round = 0; round <= rounds; round++) {  // round 0 warms up and is not recorded
                    for (int first = 0; first < prompts.size(); first += batch) {
                        List<int[]> chunk = prompts.subList(first, Math.min(prompts.size(), first + batch));
                        List<GenerationResult> expected = null;
                        for (Tally t : tallies) {
                            List<GenerationResult> results = generator.generate(chunk, t.config, null);
                            if (expected == null) {
                                expected = results;
                            } else if (round == 1) {
                                for (int i = 0; i < results.size(); i++) {
                                    t.compared++;
                                    t.differing += Arrays.equals(results.get(i).tokens(), expected.get(i).tokens()) ? 0 : 1;
                                }
                            }
                            if (round > 0) {
                                t.add(results);
                            }
                        }
                    }
                }
                double fullRate = tallies.get(0).tokensPerS();
                for (Tally t : tallies) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("batch", batch);
                    row.put("strategy", t.config.lossless() ? "self-speculative" : "full");
                    row.put("speedup", t.config.lossless() ? t.config.speedup() : 1.0);
                    row.put("draft_tokens", t.config.lossless() ? t.config.draftTokens() : null);
                    row.put("tokens_per_s", t.tokensPerS());
                    row.put("speedup_vs_full", t.tokensPerS() / fullRate);
                    GenerationResult.Speculation drafting = t.speculation;
                    if (drafting != null) {
                        row.put("acceptance_rate", drafting.acceptanceRate());
                        // 0 where no draft was checked at a position
                        row.put("acceptance_by_position", Arrays.stream(drafting.acceptanceByPosition())
                                .map(v -> Double.isNaN(v) ? 0 : v).toArray());
                        row.put("tokens_per_verification", (double) t.decodeTokens / drafting.verifyCalls() * batch);
                        row.put("outputs_compared", t.compared);
                        row.put("outputs_differing_from_full", t.differing);
                    }
                    rows.add(row);
                    System.err.printf(Locale.ROOT, "batch %d %-16s %.0fx k=%-2s %8.1f tokens/s  %.2fx full  %s%n", batch,
                            row.get("strategy"), (Double) row.get("speedup"), row.get("draft_tokens"), t.tokensPerS(),
                            t.tokensPerS() / fullRate, t.speculation == null ? "" : String.format(Locale.ROOT,
                                    "acceptance %.3f by position %s; %d/%d outputs differ", row.get("acceptance_rate"),
                                    Arrays.toString(Arrays.stream((double[]) row.get("acceptance_by_position"))
                                            .mapToObj(v -> String.format(Locale.ROOT, "%.2f", v)).toArray()),
                                    t.differing, t.compared));
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", args.string("model", "shipped"));
        out.put("verses", verses);
        out.put("max_new_tokens", maxNew);
        out.put("rounds", rounds);
        out.put("rows", rows);
        args.writeJson(out);
    }
}
