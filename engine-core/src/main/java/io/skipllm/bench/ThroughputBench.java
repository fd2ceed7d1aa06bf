package io.skipllm.bench;

import io.skipllm.BadInputException;
import io.skipllm.baselines.EarlyExit;
import io.skipllm.baselines.SkipDecodeSchedule;
import io.skipllm.model.CausalLm;
import io.skipllm.model.DecodeSession;
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
import org.nd4j.linalg.api.ndarray.INDArray;

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
 */
public final class ThroughputBench {

    /**
     * What to measure.
     *
     * @param responseLengths tokens each prompt generates (each in {@code [1, newTokens]}), one per prompt
     *     of a round; their count must be a multiple of every batch size. Empty: one batch of prompts per
     *     round, each generating {@code newTokens}.
     */
    public record Options(List<String> strategies, List<Double> speedups, List<Integer> batchSizes, int beams,
            int promptTokens, int newTokens, List<Integer> responseLengths, int warmup, int repeats, long seed) {

        public Options {
            strategies = List.copyOf(strategies);
            speedups = List.copyOf(speedups);
            batchSizes = List.copyOf(batchSizes);
            responseLengths = List.copyOf(responseLengths);
            for (String s : strategies) {
                if (!List.of("full", "unified", "top", "bottom", "skipdecode", "early-exit").contains(s)) {
                    throw new BadInputException("bench: unknown strategy '" + s
                            + "'; expected full, unified, top, bottom, skipdecode or early-exit");
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
     */
    public record Row(String strategy, double speedup, int batch, int beams, boolean supported, int[] retained,
            Double activatedLayers, Double tokensPerS, Double tokensPerSMin, Double tokensPerSMax,
            Double speedupVsFull, Double speedupVsFullMin, Double speedupVsFullMax, Double predictedSpeedup,
            Double prefillMs, Double weightReadGbPerS) {

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

        double tokensPerS() {
            return tokens / decodeSeconds;
        }
    }

    private final CausalLm model;
    private final SkipAwareDecoder decoder;
    private final int numLayers;

    public ThroughputBench(CausalLm model) {
        this.model = model;
        this.decoder = new SkipAwareDecoder(model);
        this.numLayers = model.config().numLayers();
    }

    /** Measures every row; progress lines go to {@code progress}. */
    public List<Row> run(Options options, PrintStream progress) {
        List<Row> rows = new ArrayList<>();
        for (int batch : options.batchSizes()) {
            List<Config> configs = new ArrayList<>();
            configs.add(new Config("full", 1.0, batch, options));
            for (String strategy : options.strategies()) {
                if (strategy.equals("full")) {
                    continue;
                }
                for (double speedup : options.speedups()) {
                    configs.add(new Config(strategy, speedup, batch, options));
                }
            }
            List<Config> supported = configs.stream().filter(c -> c.supported).toList();
            for (int w = 0; w < options.warmup(); w++) {
                round(supported, batch, options);
            }
            for (int r = 0; r < options.repeats(); r++) {
                List<Tally> tallies = round(supported, batch, options);
                double fullRate = tallies.get(0).tokensPerS();
                for (int i = 0; i < supported.size(); i++) {
                    Config c = supported.get(i);
                    c.rounds.add(tallies.get(i));
                    progress.printf("  batch %d %-10s %.1fx round %d: %.2f tokens/s, %.2fx full%n", batch, c.strategy,
                            c.speedup, r + 1, tallies.get(i).tokensPerS(), tallies.get(i).tokensPerS() / fullRate);
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
     * prompts, all sessions prefill, then step t runs for each approach in turn.
     */
    private List<Tally> round(List<Config> configs, int batch, Options options) {
        List<Tally> tallies = configs.stream().map(c -> new Tally()).toList();
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
                    next[i] = argmax(sessions[i].logits());
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
                        INDArray logits = sessions[i].decode(next[i], configs.get(i).plan(t));
                        next[i] = argmax(logits);
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
        }
        return tallies;
    }

    /** One measured combination and its rounds. */
    private final class Config {
        final String strategy;
        final double speedup;
        final int batch;
        final Options options;
        final boolean supported;
        final List<Tally> rounds = new ArrayList<>();
        final RetainedLayers retained;
        SkipDecodeSchedule schedule;
        EarlyExit earlyExit;

        Config(String strategy, double speedup, int batch, Options options) {
            this.strategy = strategy;
            this.speedup = speedup;
            this.batch = batch;
            this.options = options;
            this.supported = !strategy.equals("early-exit") || batch * options.beams() == 1;
            switch (strategy) {
                case "skipdecode" -> {
                    // laid out over the budget: a schedule cannot know where a generation will stop
                    schedule = SkipDecodeSchedule.forTarget(numLayers, speedup, options.newTokens());
                    retained = schedule.cacheLayers();
                }
                case "early-exit" -> retained = RetainedLayers.all(numLayers);
                default -> retained = LayerSkipPlanner.plan(SkipStrategy.fromName(strategy), numLayers, speedup);
            }
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

        Row row(Config full) {
            if (!supported) {
                return new Row(strategy, speedup, batch, options.beams(), false, null, null, null, null, null, null,
                        null, null, null, null, null);
            }
            double seconds = rounds.stream().mapToDouble(t -> t.decodeSeconds).sum();
            long tokens = rounds.stream().mapToLong(t -> t.tokens).sum();
            double tps = tokens / seconds;
            double fullTps = full.rounds.stream().mapToLong(t -> t.tokens).sum()
                    / full.rounds.stream().mapToDouble(t -> t.decodeSeconds).sum();
            double[] perRound = rounds.stream().mapToDouble(Tally::tokensPerS).toArray();
            double[] paired = IntStream.range(0, rounds.size())
                    .mapToDouble(r -> perRound[r] / full.rounds.get(r).tokensPerS()).toArray();
            double layers = (double) rounds.stream().mapToLong(t -> t.tokenLayers).sum() / tokens;
            double layerBytes = model.layerWeightBytes();
            double headBytes = model.headWeightBytes();
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
    private static int[][] beamRows(int[][] prompts, int beams) {
        int[][] rows = new int[prompts.length * beams][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = prompts[i / beams].clone();
        }
        return rows;
    }

    private static int[] beamRowLengths(int[] lengths, int beams) {
        return IntStream.range(0, lengths.length * beams).map(i -> lengths[i / beams]).toArray();
    }

    /** Beam search moves cache rows every step; rotating each prompt's beams costs the same gather. */
    private static int[] beamGather(int rowCount, int beams) {
        if (beams == 1) {
            return null;
        }
        int[] rows = new int[rowCount];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (i / beams) * beams + (i % beams + 1) % beams;
        }
        return rows;
    }

    private static int[] argmax(INDArray logits) {
        return logits.argMax(1).toIntVector();
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
