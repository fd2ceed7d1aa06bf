package io.skipllm.cli;

import io.skipllm.bench.MemoryBandwidth;
import io.skipllm.bench.ThroughputBench;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.model.CausalLm;
import io.skipllm.model.Model;
import io.skipllm.weights.MatMul;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code bench --model DIR|random:SPEC [--strategies LIST] [--speedups LIST] [--batch-sizes LIST] [--beams K]
 * [--prompt-tokens P] [--new-tokens N] [--response-lengths LIST] [--draft-tokens LIST] [--warmup W] [--repeats R]
 * [--json]}: decode
 * throughput per approach, each row measured step by step beside its full-depth baseline (see
 * {@link ThroughputBench}).
 */
final class BenchCommand implements Command {

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String usage() {
        return "bench --model DIR|random:SPEC [--strategies unified,skipdecode,early-exit(,self-speculative)] [--speedups 2,5]"
                + " [--batch-sizes 1,2,8] [--beams K] [--prompt-tokens P] [--new-tokens N] [--response-lengths LIST]"
                + " [--draft-tokens 4] [--warmup W] [--repeats R] [--weights W] [--json]";
    }

    @Override
    public void run(String[] argv, PrintStream out, PrintStream err) {
        Args args = Args.parse(name(), argv, Set.of("model", ModelLoading.WEIGHTS, ModelLoading.BACKEND, "strategies", "speedups", "batch-sizes", "beams",
                "prompt-tokens", "new-tokens", "response-lengths", "draft-tokens", "warmup", "repeats", "seed"), Set.of("json", "debug"));
        String modelSpec = args.required("model");
        int[] responseLengths = args.intList("response-lengths");
        ThroughputBench.Options options = new ThroughputBench.Options(
                List.of(args.string("strategies", "unified,skipdecode,early-exit").split(",")).stream()
                        .map(String::trim).toList(),
                Arrays.stream(args.string("speedups", "2,5").split(",")).map(String::trim).map(v -> parseDouble("speedups", v))
                        .toList(),
                Arrays.stream(Args.parseIntList("--batch-sizes", args.string("batch-sizes", "1"))).boxed().toList(),
                args.integer("beams", 1), args.integer("prompt-tokens", 32), args.integer("new-tokens", 32),
                responseLengths == null ? List.of() : Arrays.stream(responseLengths).boxed().toList(),
                args.integer("warmup", 1), args.integer("repeats", 3), args.integer("seed", 1),
                Arrays.stream(Args.parseIntList("--draft-tokens", args.string("draft-tokens",
                        String.valueOf(GenerationConfig.DEFAULT_DRAFT_TOKENS)))).boxed().toList());

        Model loaded = Model.fromSpec(modelSpec, ModelLoading.options(args));
        CausalLm network = loaded.network();
        try {
            err.printf("bench: %s, %d layers, weights %s, layer %.1f MB, head %.1f MB; kernels: %s%n", modelSpec,
                    network.config().numLayers(), network.weightFormat(), network.layerWeightBytes() / 1e6,
                    network.headWeightBytes() / 1e6, MatMul.kernelName());
            List<ThroughputBench.Row> rows = new ThroughputBench(network).run(options, err);
            // measured in the same run: the ceiling for the weight-read rate of the rows
            MemoryBandwidth.Result memory = MemoryBandwidth.measure(512L << 20, 5);
            double memoryGbPerS = memory.bytesPerS() / 1e9;
            err.printf("memory read bandwidth: %.1f GB/s (sum %.1f, matrix-vector %.1f)%n", memoryGbPerS,
                    memory.sumBytesPerS() / 1e9, memory.matrixVectorBytesPerS() / 1e9);
            if (args.flag("json")) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("model", modelSpec);
                json.put("weights", network.weightFormat());
                json.put("rows", rows.stream().map(r -> {
                    Map<String, Object> row = r.toJson();
                    row.put("weights", network.weightFormat());
                    return row;
                }).toList());
                json.put("memory_read_gb_per_s", memoryGbPerS);
                json.put("memory_probes_gb_per_s", Map.of("sum", memory.sumBytesPerS() / 1e9,
                        "matrix_vector", memory.matrixVectorBytesPerS() / 1e9));
                json.put("workload", workload(options));
                out.println(Json.line(json));
            } else {
                printTable(rows, out);
                out.printf("memory read bandwidth: %.1f GB/s%n", memoryGbPerS);
            }
        } finally {
            if (loaded != null) {
                loaded.close();
            }
        }
    }

    /** How the rows were measured, so a results file says what it is. */
    private static Map<String, Object> workload(ThroughputBench.Options options) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt_tokens", options.promptTokens());
        m.put("new_tokens", options.newTokens());
        m.put("response_lengths", options.responseLengths().isEmpty() ? null : options.responseLengths());
        m.put("beams", options.beams());
        if (options.strategies().contains(ThroughputBench.SELF_SPECULATIVE)) {
            m.put("draft_tokens", options.draftTokens());
        }
        m.put("warmup", options.warmup());
        m.put("repeats", options.repeats());
        m.put("seed", options.seed());
        return m;
    }

    private static double parseDouble(String option, String v) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new io.skipllm.BadInputException("--" + option + ": expected numbers, got '" + v + "'");
        }
    }

    private static void printTable(List<ThroughputBench.Row> rows, PrintStream out) {
        out.printf("%-16s %7s %5s %5s %9s %10s %9s %15s %9s %9s%n", "strategy", "speedup", "batch", "beams", "layers",
                "tokens/s", "vs full", "(rounds)", "predicted", "GB/s");
        for (ThroughputBench.Row r : rows) {
            String draft = r.draftTokens() == null ? "" : "  k=" + r.draftTokens() + (r.acceptanceRate() == null ? ""
                    : String.format(" acceptance %.2f", r.acceptanceRate()));
            if (!r.supported()) {
                out.printf("%-16s %7.1f %5d %5d %9s%s%n", r.strategy(), r.speedup(), r.batch(), r.beams(), "n/a", draft);
                continue;
            }
            out.printf("%-16s %7.1f %5d %5d %9.2f %10.2f %9.2f %15s %9.2f %9.2f%s%n", r.strategy(), r.speedup(), r.batch(),
                    r.beams(), r.activatedLayers(), r.tokensPerS(), r.speedupVsFull(),
                    String.format("[%.2f, %.2f]", r.speedupVsFullMin(), r.speedupVsFullMax()), r.predictedSpeedup(),
                    r.weightReadGbPerS(), draft);
        }
    }
}
