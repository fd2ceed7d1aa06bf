package io.skipllm.bench;

import io.skipllm.BadInputException;
import io.skipllm.baselines.EarlyExit;
import io.skipllm.baselines.SkipDecodeSchedule;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.Generator;
import io.skipllm.model.CausalLm;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.Logits;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.model.StepPlan;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Decode throughput per approach, target speedup and batch size, each row measured side by side with
 * its full-depth baseline. The machine is shared and its speed drifts within seconds, so the rows of
 * one batch size are measured <em>step by step in turn</em>: every approach has its own session open on
 * the same prompts, and decode step t of each runs right after step t of the others. A slow second then
 * slows every approach alike, and the ratios hold even when the absolute rates move. A round is one
 * such pass over the workload; rates are pooled over the recorded rounds (tokens / seconds), with each
 * round's rate and paired speedup giving the spread.
 *
 * <p>The workload: seeded random prompts of {@code promptTokens} tokens. Without response lengths every
 * prompt generates {@code newTokens} tokens (no early stop, so every approach does the same work). With
 * response lengths (one per prompt) each prompt stops after its own length, as generations that end at
 * EOS do, while {@code newTokens} stays the budget that position-dependent schedules (SkipDecode) are
 * laid out over, as they must be when the length is not known in advance. A batch runs until its
 * longest prompt is done (static batching); only the tokens each prompt generated count. Each row feeds
 * back its argmax; with beams > 1 every prompt has that many rows and the cache rows are gathered every
 * step, as beam search does.
 *
 * <p>{@code self-speculative} rows (lossless: the plan's retained layers draft, every layer verifies)
 * cannot step in lockstep, since a round emits a varying number of tokens per row. Each runs through
 * the {@link Generator} on the same batch of prompts right after the interleaved steps of that batch:
 * greedy, no stop tokens, as many decode tokens per prompt as the batch's longest response length
 * (one budget per call, so with response lengths every prompt of the batch generates the longest).
 * Time and tokens come from {@link GenerationResult#timing()} (decode only, the first token, which the
 * prefill predicts, excluded, as for the other rows); the paired speedup is against the full row of
 * the same round. They need beams = 1 (else a row with {@code supported} false).
 */
public final class ThroughputBench {

    /** Lossless self-speculative decoding: drafts through the plan's retained layers, verifies at full depth. */
    public static final String SELF_SPECULATIVE = "self-speculative";

    /** The strategy names {@code bench} accepts. */
    public static final List<String> STRATEGIES =
            List.of("full", "unified", "top", "bottom", "skipdecode", "early-exit", SELF_SPECULATIVE);

    /**
     * What to measure.
     *
     * @param responseLengths tokens each prompt generates (each in {@code [1, newTokens]}), one per prompt
     *     of a round; their count must be a multiple of every batch size. Empty: one batch of prompts per
     *     round, each generating {@code newTokens}.
     */
    public record Options(List<String> strategies, List<Double> speedups, List<Integer> batchSizes, int beams,
            int promptTokens, int newTokens, List<Integer> responseLengths, int warmup, int repeats, long seed,
            List<Integer> draftTokens) {

        public Options {
            strategies = List.copyOf(strategies);
            speedups = List.copyOf(speedups);
            batchSizes = List.copyOf(batchSizes);
            responseLengths = List.copyOf(responseLengths);
            draftTokens = GenerationConfig.draftTokenList(draftTokens, "bench: --draft-tokens");
            for (String s : strategies) {
                if (!STRATEGIES.contains(s)) {
                    throw new BadInputException("bench: unknown strategy '" + s
                            + "'; expected full, unified, top, bottom, skipdecode, early-exit or self-speculative");
                }
            }
            for (double r : speedups) {
                if (!(r >= 1) || Double.isInfinite(r)) {
                    throw new BadInputException("bench: speedups must be finite numbers >= 1, got " + r);
                }
            }
            for (int b : batchSizes) {
                if (b < 1) {
                    throw new BadInputException("bench: batch sizes must be >= 1, got " + b);
                }
            }
            if (beams < 1 || promptTokens < 1 || newTokens < 1 || warmup < 0 || repeats < 1) {
                throw new BadInputException("bench: beams, prompt tokens, new tokens and repeats must be >= 1 and warm-up >= 0");
            }
            for (int length : responseLengths) {
                if (length < 1 || length > newTokens) {
                    throw new BadInputException("bench: response lengths must be between 1 and --new-tokens ("
                            + newTokens + "), got " + length);
                }
            }
            for (int b : batchSizes) {
                if (!responseLengths.isEmpty() && responseLengths.size() % b != 0) {
                    throw new BadInputException("bench: " + responseLengths.size() + " response lengths do not fill "
                            + "batches of " + b + "; give a multiple of every batch size");
                }
            }
        }

        /** Options whose {@code self-speculative} rows draft {@link GenerationConfig#DEFAULT_DRAFT_TOKENS}. */
        public Options(List<String> strategies, List<Double> speedups, List<Integer> batchSizes, int beams,
                int promptTokens, int newTokens, List<Integer> responseLengths, int warmup, int repeats, long seed) {
            this(strategies, speedups, batchSizes, beams, promptTokens, newTokens, responseLengths, warmup, repeats,
                    seed, List.of(GenerationConfig.DEFAULT_DRAFT_TOKENS));
        }

        /** Options with every prompt generating {@code newTokens} tokens. */
        public Options(List<String> strategies, List<Double> speedups, List<Integer> batchSizes, int beams,
                int promptTokens, int newTokens, int warmup, int repeats, long seed) {
            this(strategies, speedups, batchSizes, beams, promptTokens, newTokens, List.of(), warmup, repeats, seed);
        }

        /** The response length of each prompt of a round, for batches of {@code batch}. */
        int[] lengthsPerPrompt(int batch) {
            if (responseLengths.isEmpty()) {
                int[] lengths = new int[batch];
                Arrays.fill(lengths, newTokens);
                return lengths;
            }
            return responseLengths.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /**
     * One measured (or unsupported) combination; null figures where {@code supported} is false.
     * {@code tokensPerS} is pooled over the recorded rounds, min/max are single rounds', and the
     * speedup min/max are the rounds' paired ratios against the full-depth row of the same round.
     *
     * <p>{@code self-speculative} rows also carry {@code draftTokens} (K) and, when supported, the
     * acceptance over the recorded rounds ({@link GenerationResult.Speculation}); their
     * {@code retained} is the draft set and {@code activatedLayers} a weight-read equivalent: the depth
     * A of a plain static plan that reads as many weight bytes per generated token, so that
     * {@code predictedSpeedup = (N*layerBytes + headBytes) / (A*layerBytes + headBytes)} holds as for the
     * other rows (see {@link Config#row}). Null for the other strategies.
     */
    public record Row(String strategy, double speedup, int batch, int beams, boolean supported, int[] retained,
            Double activatedLayers, Double tokensPerS, Double tokensPerSMin, Double tokensPerSMax,
            Double speedupVsFull, Double speedupVsFullMin, Double speedupVsFullMax, Double predictedSpeedup,
            Double prefillMs, Double weightReadGbPerS, Integer draftTokens, Double acceptanceRate,
            double[] acceptanceByPosition, Double tokensPerRound) {

        /** A row of a strategy other than {@code self-speculative}. */
        public Row(String strategy, double speedup, int batch, int beams, boolean supported, int[] retained,
                Double activatedLayers, Double tokensPerS, Double tokensPerSMin, Double tokensPerSMax,
                Double speedupVsFull, Double speedupVsFullMin, Double speedupVsFullMax, Double predictedSpeedup,
                Double prefillMs, Double weightReadGbPerS) {
            this(strategy, speedup, batch, beams, supported, retained, activatedLayers, tokensPerS, tokensPerSMin,
                    tokensPerSMax, speedupVsFull, speedupVsFullMin, speedupVsFullMax, predictedSpeedup, prefillMs,
                    weightReadGbPerS, null, null, null, null);
        }

        /** The row as the JSON object of CONTRACTS.md (snake_case keys, nulls for unsupported rows). */
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("strategy", strategy);
            m.put("speedup", speedup);
            m.put("batch", batch);
            m.put("beams", beams);
            m.put("supported", supported);
            m.put("activated_layers", activatedLayers);
            m.put("tokens_per_s", tokensPerS);
            m.put("tokens_per_s_min", tokensPerSMin);
            m.put("tokens_per_s_max", tokensPerSMax);
            m.put("speedup_vs_full", speedupVsFull);
            m.put("speedup_vs_full_min", speedupVsFullMin);
            m.put("speedup_vs_full_max", speedupVsFullMax);
            m.put("predicted_speedup", predictedSpeedup);
            m.put("prefill_ms", prefillMs);
            m.put("weight_read_gb_per_s", weightReadGbPerS);
            if (retained != null) {
                m.put("retained", retained);
            }
            if (draftTokens != null) {
                m.put("draft_tokens", draftTokens);
                m.put("acceptance_rate", acceptanceRate);
                m.put("acceptance_by_position", acceptanceByPosition == null ? null
                        : Arrays.stream(acceptanceByPosition).mapToObj(v -> Double.isNaN(v) ? null : (Object) v).toList());
                m.put("tokens_per_round", tokensPerRound);
            }
            return m;
        }
    }

    /** What one approach did in one round. */
    private static final class Tally {
        double decodeSeconds;
        long tokens;
        /** Sum over generated tokens of the layers that token ran. */
        long tokenLayers;
        /** Sum over decode steps of the layers the step ran (every row of the batch reads those weights). */
        long stepLayers;
        long steps;
        final List<Double> prefillMs = new ArrayList<>();
        /** Self-speculative rows: what drafting and verification did, summed over the round's batches. */
        GenerationResult.Speculation speculation;

        void add(GenerationResult.Speculation s) {
            speculation = speculation == null ? s : speculation.plus(s);
        }

        double tokensPerS() {
            return tokens / decodeSeconds;
        }
    }

    private final CausalLm model;
    private final SkipAwareDecoder decoder;
    private final Generator generator;
    private final int numLayers;

    public ThroughputBench(CausalLm model) {
        this.model = model;
        this.decoder = new SkipAwareDecoder(model);
        this.generator = new Generator(decoder);
        this.numLayers = model.config().numLayers();
    }

    /** Measures every row; progress lines go to {@code progress}. */
    public List<Row> run(Options options, PrintStream progress) {
        List<Row> rows = new ArrayList<>();
        for (int batch : options.batchSizes()) {
            List<Config> configs = new ArrayList<>();
            configs.add(new Config("full", 1.0, 0, batch, options));
            for (String strategy : options.strategies()) {
                if (strategy.equals("full")) {
                    continue;
                }
                for (double speedup : options.speedups()) {
                    if (strategy.equals(SELF_SPECULATIVE)) {
                        for (int k : options.draftTokens()) {
                            configs.add(new Config(strategy, speedup, k, batch, options));
                        }
                    } else {
                        configs.add(new Config(strategy, speedup, 0, batch, options));
                    }
                }
            }
            List<Config> lockstep = configs.stream().filter(c -> c.supported && !c.speculative()).toList();
            List<Config> speculative = configs.stream().filter(c -> c.supported && c.speculative()).toList();
            List<Config> measured = new ArrayList<>(lockstep);
            measured.addAll(speculative);
            for (int w = 0; w < options.warmup(); w++) {
                round(lockstep, speculative, batch, options);
            }
            for (int r = 0; r < options.repeats(); r++) {
                List<Tally> tallies = round(lockstep, speculative, batch, options);
                double fullRate = tallies.get(0).tokensPerS();
                for (int i = 0; i < measured.size(); i++) {
                    Config c = measured.get(i);
                    c.rounds.add(tallies.get(i));
                    progress.printf("  batch %d %-10s %.1fx%s round %d: %.2f tokens/s, %.2fx full%n", batch, c.strategy,
                            c.speedup, c.speculative() ? " k=" + c.draftTokens : "", r + 1, tallies.get(i).tokensPerS(),
                            tallies.get(i).tokensPerS() / fullRate);
                }
            }
            Config full = configs.get(0);
            for (Config c : configs) {
                rows.add(c.row(full));
            }
        }
        return rows;
    }

    /**
     * One pass over the workload with every approach's decode steps interleaved: for each batch of
     * prompts, all sessions prefill, then step t runs for each approach in turn; then each
     * self-speculative approach generates for the same batch. Tallies: {@code configs}' then
     * {@code speculative}'s.
     */
    private List<Tally> round(List<Config> configs, List<Config> speculative, int batch, Options options) {
        List<Tally> tallies = new ArrayList<>();
        for (int i = 0; i < configs.size() + speculative.size(); i++) {
            tallies.add(new Tally());
        }
        int[] lengths = options.lengthsPerPrompt(batch);
        int[][] allPrompts = prompts(lengths.length, options);
        for (int first = 0; first < lengths.length; first += batch) {
            int[] batchLengths = Arrays.copyOfRange(lengths, first, first + batch);
            int[][] prompts = beamRows(Arrays.copyOfRange(allPrompts, first, first + batch), options.beams());
            int[] rowLengths = beamRowLengths(batchLengths, options.beams());
            int steps = Arrays.stream(batchLengths).max().orElseThrow();
            DecodeSession[] sessions = new DecodeSession[configs.size()];
            try {
                int[][] next = new int[configs.size()][];
                for (int i = 0; i < configs.size(); i++) {
                    Config c = configs.get(i);
                    c.calibrate(prompts[0]);
                    long start = System.nanoTime();
                    sessions[i] = decoder.start(prompts, options.newTokens(), c.retained);
                    tallies.get(i).prefillMs.add((System.nanoTime() - start) / 1e6);
                    next[i] = argmax(sessions[i]);
                }
                int[] gather = beamGather(prompts.length, options.beams());
                for (int t = 0; t < steps; t++) {
                    int active = 0;
                    for (int length : rowLengths) {
                        active += length > t ? 1 : 0;
                    }
                    for (int i = 0; i < configs.size(); i++) {
                        Tally tally = tallies.get(i);
                        long start = System.nanoTime();
                        if (gather != null) {
                            sessions[i].reorderRows(gather);
                        }
                        sessions[i].step(next[i], configs.get(i).plan(t));
                        next[i] = argmax(sessions[i]);
                        tally.decodeSeconds += (System.nanoTime() - start) / 1e9;
                        int layers = sessions[i].lastStepLayers();
                        tally.tokens += active;
                        tally.tokenLayers += (long) layers * active;
                        tally.stepLayers += layers;
                        tally.steps++;
                    }
                }
            } finally {
                for (DecodeSession s : sessions) {
                    if (s != null) {
                        s.close();
                    }
                }
            }
            for (int j = 0; j < speculative.size(); j++) {
                speculate(speculative.get(j), prompts, steps, tallies.get(configs.size() + j));
            }
        }
        return tallies;
    }

    /**
     * One batch through lossless self-speculative generation: {@code steps} decode tokens per prompt
     * (plus the first, from the prefill, which is not counted), greedy, no early stop.
     */
    private void speculate(Config c, int[][] prompts, int steps, Tally tally) {
        int longestPrompt = Arrays.stream(prompts).mapToInt(p -> p.length).max().orElseThrow();
        int maxNewTokens = Math.max(1, Math.min(steps + 1, model.config().maxPositions() - longestPrompt));
        GenerationConfig config = GenerationConfig.builder().retainedLayers(c.retained).lossless(true)
                .draftTokens(c.draftTokens).maxNewTokens(maxNewTokens).stopTokenIds(List.of()).build();
        List<GenerationResult> results = generator.generate(Arrays.asList(prompts), config, null);
        GenerationResult.Timing timing = results.get(0).timing();  // shared by the batch, as is the speculation
        tally.decodeSeconds += timing.decodeMillis() / 1e3;
        tally.tokens += timing.decodeTokens();
        tally.prefillMs.add(timing.prefillMillis());
        tally.add(results.get(0).speculation());
    }

    /** One measured combination and its rounds. */
    private final class Config {
        final String strategy;
        final double speedup;
        /** Tokens drafted per verification (self-speculative), else 0. */
        final int draftTokens;
        final int batch;
        final Options options;
        final boolean supported;
        final List<Tally> rounds = new ArrayList<>();
        final RetainedLayers retained;
        SkipDecodeSchedule schedule;
        EarlyExit earlyExit;

        Config(String strategy, double speedup, int draftTokens, int batch, Options options) {
            this.strategy = strategy;
            this.speedup = speedup;
            this.draftTokens = draftTokens;
            this.batch = batch;
            this.options = options;
            this.supported = switch (strategy) {
                case "early-exit" -> batch * options.beams() == 1;
                case SELF_SPECULATIVE -> options.beams() == 1;  // greedy lossless decoding, no beam search
                default -> true;
            };
            switch (strategy) {
                case "skipdecode" -> {
                    // laid out over the budget: a schedule cannot know where a generation will stop
                    schedule = SkipDecodeSchedule.forTarget(numLayers, speedup, options.newTokens());
                    retained = schedule.cacheLayers();
                }
                case "early-exit" -> retained = RetainedLayers.all(numLayers);
                // the draft set: the unified plan at the speedup
                case SELF_SPECULATIVE -> retained = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, numLayers, speedup);
                default -> retained = LayerSkipPlanner.plan(SkipStrategy.fromName(strategy), numLayers, speedup);
            }
        }

        boolean speculative() {
            return strategy.equals(SELF_SPECULATIVE);
        }

        /** Early exit's threshold, calibrated once on the first prompt to hit the target mean depth. */
        void calibrate(int[] prompt) {
            if (strategy.equals("early-exit") && earlyExit == null) {
                earlyExit = EarlyExit.calibrate(decoder, prompt, options.newTokens(), speedup);
            }
        }

        StepPlan plan(int t) {
            if (schedule != null) {
                return schedule.planAt(t);
            }
            if (earlyExit != null) {
                return earlyExit.plan(numLayers);
            }
            int[] layers = retained.indices();
            return () -> layers;
        }

        /**
         * The row. For self-speculative rows, with F = N*layerBytes + headBytes the bytes a full-depth
         * step reads (for all {@code batch} rows at once) and D = M*layerBytes + headBytes a draft call's
         * (M retained layers): the weight bytes read are W = draftCalls*D + verifyCalls*F (each call reads
         * its layers once for every row and position in it), {@code predicted_speedup} =
         * (F / batch) / (W / tokens) (full depth's bytes per generated token over these), and
         * {@code activated_layers} = (batch * W / tokens - headBytes) / layerBytes, the depth of a plain
         * plan reading as much per token.
         */
        Row row(Config full) {
            if (!supported) {
                return new Row(strategy, speedup, batch, options.beams(), false, null, null, null, null, null, null,
                        null, null, null, null, null, speculative() ? draftTokens : null, null, null, null);
            }
            double seconds = rounds.stream().mapToDouble(t -> t.decodeSeconds).sum();
            long tokens = rounds.stream().mapToLong(t -> t.tokens).sum();
            double tps = tokens / seconds;
            double fullTps = full.rounds.stream().mapToLong(t -> t.tokens).sum()
                    / full.rounds.stream().mapToDouble(t -> t.decodeSeconds).sum();
            double[] perRound = rounds.stream().mapToDouble(Tally::tokensPerS).toArray();
            double[] paired = IntStream.range(0, rounds.size())
                    .mapToDouble(r -> perRound[r] / full.rounds.get(r).tokensPerS()).toArray();
            double layerBytes = model.layerWeightBytes();
            double headBytes = model.headWeightBytes();
            if (speculative()) {
                double fullStep = numLayers * layerBytes + headBytes;
                double draftStep = retained.size() * layerBytes + headBytes;
                GenerationResult.Speculation spec = rounds.stream().map(t -> t.speculation)
                        .reduce(GenerationResult.Speculation::plus).orElseThrow();
                double bytesRead = spec.draftCalls() * draftStep + spec.verifyCalls() * fullStep;
                double predicted = tokens * fullStep / (batch * bytesRead);
                double layers = (batch * bytesRead / tokens - headBytes) / layerBytes;
                return new Row(strategy, speedup, batch, options.beams(), true, retained.indices(), layers, tps,
                        min(perRound), max(perRound), tps / fullTps, min(paired), max(paired), predicted,
                        median(rounds.stream().flatMap(t -> t.prefillMs.stream()).mapToDouble(Double::doubleValue)
                                .toArray()), bytesRead / seconds / 1e9, draftTokens, spec.acceptanceRate(),
                        spec.acceptanceByPosition(), spec.tokensPerRound());
            }
            double layers = (double) rounds.stream().mapToLong(t -> t.tokenLayers).sum() / tokens;
            double predicted = (numLayers * layerBytes + headBytes) / (layers * layerBytes + headBytes);
            // every decode step reads the weights of the layers it ran, whatever rows are still generating
            double bytesRead = rounds.stream().mapToDouble(t -> t.stepLayers * layerBytes + t.steps * headBytes).sum();
            boolean staticSet = !strategy.equals("skipdecode") && !strategy.equals("early-exit");
            return new Row(strategy, speedup, batch, options.beams(), true, staticSet ? retained.indices() : null,
                    layers, tps, min(perRound), max(perRound), tps / fullTps, min(paired), max(paired), predicted,
                    median(rounds.stream().flatMap(t -> t.prefillMs.stream()).mapToDouble(Double::doubleValue).toArray()),
                    bytesRead / seconds / 1e9);
        }
    }

    /** Seeded random prompts, one per response length, the same in every round and for every approach. */
    private int[][] prompts(int count, Options options) {
        SplittableRandom rng = new SplittableRandom(options.seed());
        int vocab = model.config().vocabSize();
        int[][] prompts = new int[count][];
        for (int i = 0; i < count; i++) {
            prompts[i] = rng.ints(options.promptTokens(), 0, vocab).toArray();
        }
        return prompts;
    }

    /** Each prompt repeated once per beam, beams of a prompt adjacent. */
    static int[][] beamRows(int[][] prompts, int beams) {
        int[][] rows = new int[prompts.length * beams][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = prompts[i / beams].clone();
        }
        return rows;
    }

    static int[] beamRowLengths(int[] lengths, int beams) {
        return IntStream.range(0, lengths.length * beams).map(i -> lengths[i / beams]).toArray();
    }

    /** Beam search moves cache rows every step; rotating each prompt's beams costs the same gather. */
    static int[] beamGather(int rowCount, int beams) {
        if (beams == 1) {
            return null;
        }
        int[] rows = new int[rowCount];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (i / beams) * beams + (i % beams + 1) % beams;
        }
        return rows;
    }

    private static int[] argmax(DecodeSession session) {
        float[][] rows = session.logitsRows(null);
        int[] best = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            best[r] = Logits.argmax(rows[r]);
        }
        return best;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    private static double max(double[] values) {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
