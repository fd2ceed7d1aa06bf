package io.skipllm.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.baselines.SkipDecodeSchedule;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.Generator;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.RetainedLayers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class ScheduledGreedyTest {

    private static final int[][] PROMPTS = {{1, 17, 33, 9, 40}, {1, 70, 22}, {1, 4, 4, 4, 60, 61, 62}};

    @Test
    void withAFixedSetItIsTheGeneratorsGreedySearch() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        RetainedLayers layers = RetainedLayers.of(0, 2, 3);
        Generator generator = new Generator(decoder);
        GenerationConfig noStop = GenerationConfig.builder().retainedLayers(layers).maxNewTokens(9).stopTokenIds(List.of())
                .build();
        List<GenerationResult> free = generator.generate(new ArrayList<>(Arrays.asList(PROMPTS)), noStop, null);
        // stop on a token one prompt emits mid-way, so stopping and filler rows are exercised
        int stop = free.get(1).tokens()[4];
        GenerationConfig config = noStop.toBuilder().stopTokenIds(stop).build();
        List<GenerationResult> expected = generator.generate(new ArrayList<>(Arrays.asList(PROMPTS)), config, null);
        ScheduledGreedy.Output out = ScheduledGreedy.run(decoder, PROMPTS, SkipPolicy.fixed(layers), 9, new int[] {stop});
        long kept = 0;
        boolean someStopped = false;
        for (int r = 0; r < PROMPTS.length; r++) {
            assertArrayEquals(expected.get(r).tokens(), out.tokens()[r], "row " + r);
            kept += out.tokens()[r].length - 1;
            someStopped |= out.tokens()[r].length < 9;
        }
        assertTrue(someStopped, "the stop token ended a row early");
        assertEquals(kept, out.decodeTokens());
        assertEquals(kept * layers.size(), out.layerSum(), "every decode-produced token ran the 3 layers");
    }

    @Test
    void skipDecodeInABatchGivesEachRowItsAloneResultAndCountsEachStepsDepth() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        SkipDecodeSchedule schedule = new SkipDecodeSchedule(EvalFixtures.LAYERS, 4, 2, 8, 1);
        SkipPolicy policy = new SkipPolicy.SkipDecode(schedule);
        ScheduledGreedy.Output out = ScheduledGreedy.run(decoder, PROMPTS, policy, 8, new int[0]);
        long layers = 0;
        for (int r = 0; r < PROMPTS.length; r++) {
            assertArrayEquals(manual(decoder, PROMPTS[r], schedule, 8), out.tokens()[r], "row " + r);
            for (int k = 0; k < out.tokens()[r].length - 1; k++) {
                layers += schedule.depthAt(k);
            }
        }
        assertEquals(layers, out.layerSum());
        assertTrue(layers < (long) PROMPTS.length * 7 * 4, "later steps ran fewer than all 4 layers");
    }

    /** Greedy by hand for one prompt: argmax, then feed it through step t's layers. */
    private static int[] manual(SkipAwareDecoder decoder, int[] prompt, SkipDecodeSchedule schedule, int steps) {
        int[] out = new int[steps];
        try (DecodeSession s = decoder.start(new int[][] {prompt}, steps, schedule.cacheLayers())) {
            INDArray logits = s.logits();
            for (int t = 0; t < steps; t++) {
                out[t] = logits.getRow(0).argMax().getInt(0);
                if (t + 1 < steps) {
                    logits = s.decode(new int[] {out[t]}, schedule.planAt(t));
                }
            }
        }
        return out;
    }
}
