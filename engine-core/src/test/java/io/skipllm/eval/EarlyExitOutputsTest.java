package io.skipllm.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.skipllm.baselines.EarlyExit;
import io.skipllm.bench.ThroughputBench;
import io.skipllm.model.CausalLm;
import io.skipllm.model.RandomModels;
import io.skipllm.model.SkipAwareDecoder;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Early exit's outputs on the eval and bench fixtures, recorded at commit 9cbb35e (when early-exit steps
 * ran on ND4J arrays) before the forward pass was split into a host and an ND4J backend: generated
 * tokens and layer counts exactly, calibrated thresholds and losses to float32 rounding. Whatever
 * runs early exit, these must not move.
 */
class EarlyExitOutputsTest {

    private static final String LLAMA = "random:llama,layers=6,hidden=32,heads=4,kv_heads=2,intermediate=48,vocab=40,seed=3";
    private static final String BLOOM = "random:bloom,layers=6,hidden=32,heads=4,intermediate=64,vocab=40,seed=5";
    private static final int[] BENCH_PROMPT = {3, 4, 5, 9};

    @Test
    void evalFixtureCalibration() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        int[] prompt = EvalFixtures.examples().get(0).prompt();
        assertEquals(0.12334904706830138, EarlyExit.calibrate(decoder, prompt, 6, 1.5).threshold(), 1e-6);
        assertEquals(0.08048190838011021, EarlyExit.calibrate(decoder, prompt, 6, 2.0).threshold(), 1e-6);
        assertEquals(0.05048317611002225, EarlyExit.calibrate(decoder, prompt, 6, 3.0).threshold(), 1e-6);
    }

    @Test
    void evalFixtureGenerationAndLoss() {
        expectEval(0.05, 5.1994972276292835, new int[][] {{64, 15, 29, 13, 10, 30, 64, 76}, {58, 27, 34, 33, 32, 12, 30, 22},
            {58, 61, 27, 33, 32, 12, 30, 22}, {60, 57, 53, 42, 62, 60, 57, 53}, {3}}, new long[] {7, 7, 7, 7, 0});
        expectEval(0.08, 5.203105303464972, new int[][] {{64, 45, 73, 9, 40, 64, 65, 26}, {58, 27, 34, 38, 27, 33, 74, 29},
            {58, 70, 31, 45, 46, 66, 22, 25}, {60, 57, 73, 9, 40, 9, 40, 78}, {3}}, new long[] {16, 12, 14, 15, 0});
        expectEval(0.2, 5.202343987900863, new int[][] {{64, 45, 73, 9, 40, 41, 13, 45}, {58, 31, 45, 45, 45, 45, 74, 78},
            {58, 27, 48, 31, 45, 38, 38, 27}, {60, 63, 0, 14, 13, 31, 72, 58}, {3}}, new long[] {28, 28, 28, 28, 0});
    }

    private static void expectEval(double threshold, double loss, int[][] tokens, long[] layers) {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        List<EncodedExample> examples = EvalFixtures.examples();
        SkipPolicy policy = new SkipPolicy.EarlyExiting(new EarlyExit(threshold), EvalFixtures.LAYERS);
        for (int i = 0; i < examples.size(); i++) {
            ScheduledGreedy.Output out = ScheduledGreedy.run(decoder, new int[][] {examples.get(i).prompt()}, policy, 8,
                    new int[] {EvalFixtures.EOS});
            assertArrayEquals(tokens[i], out.tokens()[0], "threshold " + threshold + ", example " + i);
            assertEquals(layers[i], out.layerSum(), "threshold " + threshold + ", example " + i);
        }
        assertEquals(loss, ResponseLoss.compute(decoder, examples, policy, 4).meanNats(), 1e-5);
    }

    @Test
    void benchFixtureRows() {
        expectBench(LLAMA, new double[] {4.625, 2.75, 2.125});
        expectBench(BLOOM, new double[] {3.75, 2.75, 2.125});
    }

    private static void expectBench(String spec, double[] activated) {
        List<ThroughputBench.Row> rows = new ThroughputBench(RandomModels.fromSpec(spec)).run(new ThroughputBench.Options(
                List.of("early-exit"), List.of(1.5, 2.0, 3.0), List.of(1), 1, 4, 8, 0, 1, 1L),
                new PrintStream(OutputStream.nullOutputStream()));
        assertEquals(4, rows.size(), "full, then early exit at three speedups");
        for (int i = 0; i < 3; i++) {
            assertEquals(activated[i], rows.get(i + 1).activatedLayers(), 1e-12, spec + " row " + (i + 1));
        }
    }

    @Test
    void benchFixtureGeneration() {
        expectBenchGeneration(LLAMA, new double[] {0.14715186471274885, 0.13450303309293202, 0.12208484224394502},
                new int[][] {{3, 19, 27, 22, 12, 21, 6, 28}, {3, 19, 27, 22, 12, 21, 6, 28}, {3, 19, 27, 22, 12, 21, 6, 28}},
                new long[] {18, 15, 11});
        expectBenchGeneration(BLOOM, new double[] {0.035471218195782396, 0.03521056552936023, 0.03480925449438356},
                new int[][] {{20, 20, 20, 20, 20, 20, 20, 20}, {20, 20, 20, 20, 20, 20, 20, 20}, {20, 20, 20, 20, 20, 20, 6, 6}},
                new long[] {32, 32, 14});
    }

    private static void expectBenchGeneration(String spec, double[] thresholds, int[][] tokens, long[] layers) {
        CausalLm model = RandomModels.fromSpec(spec);
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        double[] speedups = {1.5, 2.0, 3.0};
        for (int i = 0; i < speedups.length; i++) {
            EarlyExit exit = EarlyExit.calibrate(decoder, BENCH_PROMPT, 8, speedups[i]);
            assertEquals(thresholds[i], exit.threshold(), 1e-6, spec + " at " + speedups[i]);
            ScheduledGreedy.Output out = ScheduledGreedy.run(decoder, new int[][] {BENCH_PROMPT},
                    new SkipPolicy.EarlyExiting(exit, 6), 8, new int[0]);
            assertArrayEquals(tokens[i], out.tokens()[0], spec + " at " + speedups[i]);
            assertEquals(layers[i], out.layerSum(), spec + " at " + speedups[i]);
        }
    }
}
