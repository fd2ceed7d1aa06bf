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
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Decode throughput per approach, target speedup and batch size, each row measured in the same run as
 * its full-depth baseline (the machine is shared and noisy: only ratios measured side by side mean
 * anything). Repetitions are interleaved across rows so drift affects all rows alike; the median is
 * reported with the spread.
 *
 * <p>Every row decodes the same seeded random prompts for a fixed number of new tokens (no early stop,
 * so all approaches do the same amount of work), feeding back each row's argmax. With beams > 1 every
 * prompt has that many rows and the cache rows are gathered every step, as beam search does.
 */
public final class ThroughputBench {

    /** What to measure. */
    public record Options(List<String> strategies, List<Double> speedups, List<Integer> batchSizes, int beams,
            int promptTokens, int newTokens, int warmup, int repeats, long seed) {

        public Options {
            strategies = List.copyOf(strategies);
            speedups = List.copyOf(speedups);
            batchSizes = List.copyOf(batchSizes);
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
        }
    }

    /** One measured (or unsupported) combination; null figures where {@code supported} is false. */
    public record Row(String strategy, double speedup, int batch, int beams, boolean supported, int[] retained,
            Double activatedLayers, Double tokensPerS, Double tokensPerSMin, Double tokensPerSMax,
            Double speedupVsFull, Double predictedSpeedup, Double prefillMs, Double weightReadGbPerS) {

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
            m.put("predicted_speedup", predictedSpeedup);
            m.put("prefill_ms", prefillMs);
            m.put("weight_read_gb_per_s", weightReadGbPerS);
            if (retained != null) {
                m.put("retained", retained);
            }
            return m;
        }
    }

    private record Sample(double decodeSeconds, double prefillMs, double meanLayers) {
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
            for (int w = 0; w < options.warmup(); w++) {
                configs.forEach(c -> c.measure(false));
            }
            for (int r = 0; r < options.repeats(); r++) {
                for (Config c : configs) {
                    c.measure(true);
                    progress.printf("  batch %d %-10s %.1fx rep %d: %s%n", batch, c.strategy, c.speedup, r + 1,
                            c.samples.isEmpty() ? "not supported" : String.format("%.2f tokens/s",
                                    c.tokensPerS(c.samples.get(c.samples.size() - 1))));
                }
            }
            double fullTps = configs.get(0).medianTokensPerS();
            for (Config c : configs) {
                rows.add(c.row(fullTps));
            }
        }
        return rows;
    }

    /** One measured combination and its samples. */
    private final class Config {
        final String strategy;
        final double speedup;
        final int batch;
        final Options options;
        final int rowsPerBatch;
        final boolean supported;
        final List<Sample> samples = new ArrayList<>();
        RetainedLayers retained;
        SkipDecodeSchedule schedule;
        EarlyExit earlyExit;

        Config(String strategy, double speedup, int batch, Options options) {
            this.strategy = strategy;
            this.speedup = speedup;
            this.batch = batch;
            this.options = options;
            this.rowsPerBatch = batch * options.beams();
            this.supported = !strategy.equals("early-exit") || rowsPerBatch == 1;
            switch (strategy) {
                case "skipdecode" -> {
                    schedule = SkipDecodeSchedule.forTarget(numLayers, speedup, options.newTokens());
                    retained = schedule.cacheLayers();
                }
                case "early-exit" -> retained = RetainedLayers.all(numLayers);
                default -> retained = LayerSkipPlanner.plan(SkipStrategy.fromName(strategy), numLayers, speedup);
            }
        }

        void measure(boolean record) {
            if (!supported) {
                return;
            }
            int[][] prompts = prompts();
            if (strategy.equals("early-exit") && earlyExit == null) {
                earlyExit = EarlyExit.calibrate(decoder, prompts[0], options.newTokens(), speedup);
            }
            long start = System.nanoTime();
            try (DecodeSession session = decoder.start(prompts, options.newTokens(), retained)) {
                double prefillMs = (System.nanoTime() - start) / 1e6;
                int[] next = argmax(session.logits());
                int[] gather = beamGather();
                long layers = 0;
                long decodeStart = System.nanoTime();
                for (int t = 0; t < options.newTokens(); t++) {
                    if (gather != null) {
                        session.reorderRows(gather);
                    }
                    INDArray logits = session.decode(next, plan(t));
                    layers += session.lastStepLayers();
                    next = argmax(logits);
                }
                double seconds = (System.nanoTime() - decodeStart) / 1e9;
                if (record) {
                    samples.add(new Sample(seconds, prefillMs, (double) layers / options.newTokens()));
                }
            }
        }

        private StepPlan plan(int t) {
            if (schedule != null) {
                return schedule.planAt(t);
            }
            if (earlyExit != null) {
                return earlyExit.plan(numLayers);
            }
            int[] layers = retained.indices();
            return () -> layers;
        }

        /** Beam search moves cache rows every step; rotating each prompt's beams costs the same gather. */
        private int[] beamGather() {
            int k = options.beams();
            if (k == 1) {
                return null;
            }
            int[] rows = new int[rowsPerBatch];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = (i / k) * k + (i % k + 1) % k;
            }
            return rows;
        }

        private int[][] prompts() {
            SplittableRandom rng = new SplittableRandom(options.seed());
            int[][] prompts = new int[rowsPerBatch][options.promptTokens()];
            int vocab = model.config().vocabSize();
            for (int b = 0; b < batch; b++) {
                int[] prompt = rng.ints(options.promptTokens(), 0, vocab).toArray();
                for (int k = 0; k < options.beams(); k++) {
                    prompts[b * options.beams() + k] = prompt.clone();
                }
            }
            return prompts;
        }

        double tokensPerS(Sample s) {
            return rowsPerBatch * options.newTokens() / s.decodeSeconds();
        }

        double medianTokensPerS() {
            return samples.isEmpty() ? Double.NaN : median(samples.stream().mapToDouble(this::tokensPerS).toArray());
        }

        Row row(double fullTokensPerS) {
            if (!supported) {
                return new Row(strategy, speedup, batch, options.beams(), false, null, null, null, null, null, null,
                        null, null, null);
            }
            double tps = medianTokensPerS();
            double[] all = samples.stream().mapToDouble(this::tokensPerS).toArray();
            double layers = samples.stream().mapToDouble(Sample::meanLayers).average().orElse(Double.NaN);
            double layerBytes = model.layerWeightBytes();
            double headBytes = model.headWeightBytes();
            double predicted = (numLayers * layerBytes + headBytes) / (layers * layerBytes + headBytes);
            double stepsPerS = tps / rowsPerBatch;
            double bandwidth = (layers * layerBytes + headBytes) * stepsPerS / 1e9;
            boolean staticSet = !strategy.equals("skipdecode") && !strategy.equals("early-exit");
            return new Row(strategy, speedup, batch, options.beams(), true, staticSet ? retained.indices() : null,
                    layers, tps, Arrays.stream(all).min().orElse(tps), Arrays.stream(all).max().orElse(tps),
                    tps / fullTokensPerS, predicted,
                    median(samples.stream().mapToDouble(Sample::prefillMs).toArray()), bandwidth);
        }
    }

    private static int[] argmax(INDArray logits) {
        return logits.argMax(1).toIntVector();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
