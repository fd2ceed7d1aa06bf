package io.skipllm.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.baselines.EarlyExit;
import io.skipllm.baselines.SkipDecodeSchedule;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponseLossTest {

    private static final double TOLERANCE = 1e-4;  // batched rows vs alone: float rounding only

    @Test
    void fullDepthEqualsTheStepByStepLossOfEachExample() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        List<EncodedExample> examples = EvalFixtures.examples();
        RetainedLayers all = RetainedLayers.all(EvalFixtures.LAYERS);
        double expected = EvalFixtures.manualMeanLoss(decoder, examples, all, null);
        for (int batch : new int[] {1, 2, 5, 16}) {
            ResponseLoss.Result r = ResponseLoss.compute(decoder, examples, SkipPolicy.fixed(all), batch);
            assertEquals(expected, r.meanNats(), TOLERANCE, "batch " + batch);
            assertEquals(4 + 1 + 6 + 2 + 5, r.tokens(), "every response token, EOS included");
            assertEquals(r.totalNats() / r.tokens(), r.meanNats(), 1e-12);
        }
        assertTrue(expected > 1 && expected < 10, "a random model is far from certain: " + expected);
    }

    @Test
    void skippingUsesTheRetainedLayersForResponseTokensOnly() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        List<EncodedExample> examples = EvalFixtures.examples();
        RetainedLayers unified = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, EvalFixtures.LAYERS, 2);
        double full = ResponseLoss.compute(decoder, examples, SkipPolicy.fixed(RetainedLayers.all(EvalFixtures.LAYERS)),
                4).meanNats();
        double skipped = ResponseLoss.compute(decoder, examples, SkipPolicy.fixed(unified), 4).meanNats();
        assertEquals(EvalFixtures.manualMeanLoss(decoder, examples, unified, null), skipped, TOLERANCE);
        assertTrue(Math.abs(skipped - full) > 1e-2, "skipping layers changes the loss: " + skipped + " vs " + full);
        // an example whose response is only EOS is predicted from the full-depth prompt pass: no skip effect
        List<EncodedExample> eosOnly = List.of(examples.get(1));
        assertEquals(ResponseLoss.compute(decoder, eosOnly, SkipPolicy.fixed(RetainedLayers.all(4)), 1).meanNats(),
                ResponseLoss.compute(decoder, eosOnly, SkipPolicy.fixed(unified), 1).meanNats(), 1e-6);
    }

    @Test
    void skipDecodeRunsEachStepsLayers() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        List<EncodedExample> examples = EvalFixtures.examples();
        SkipDecodeSchedule schedule = new SkipDecodeSchedule(EvalFixtures.LAYERS, 4, 2, 5, 1);
        double loss = ResponseLoss.compute(decoder, examples, new SkipPolicy.SkipDecode(schedule), 3).meanNats();
        assertEquals(EvalFixtures.manualMeanLoss(decoder, examples, schedule.cacheLayers(), schedule::planAt), loss,
                TOLERANCE);
        double fixedAtMax = ResponseLoss.compute(decoder, examples, SkipPolicy.fixed(schedule.cacheLayers()), 3)
                .meanNats();
        assertTrue(Math.abs(loss - fixedAtMax) > 1e-3, "later steps run fewer layers than the first");
    }

    @Test
    void earlyExitRunsOneExampleAtATime() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        List<EncodedExample> examples = EvalFixtures.examples();
        EarlyExit exit = new EarlyExit(0.05);
        SkipPolicy policy = new SkipPolicy.EarlyExiting(exit, EvalFixtures.LAYERS);
        double loss = ResponseLoss.compute(decoder, examples, policy, 8).meanNats();  // batch 8 asked, 1 used
        assertEquals(EvalFixtures.manualMeanLoss(decoder, examples, RetainedLayers.all(EvalFixtures.LAYERS),
                t -> exit.plan(EvalFixtures.LAYERS)), loss, 1e-9);
        double full = ResponseLoss.compute(decoder, examples, SkipPolicy.fixed(RetainedLayers.all(EvalFixtures.LAYERS)),
                1).meanNats();
        assertTrue(Math.abs(loss - full) > 1e-3, "some tokens exit early at this threshold: " + loss + " vs " + full);
    }

    @Test
    void badExamplesAreRefusedBeforeAnyForwardPass() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        SkipPolicy all = SkipPolicy.fixed(RetainedLayers.all(EvalFixtures.LAYERS));
        BadInputException vocab = assertThrows(BadInputException.class, () -> ResponseLoss.compute(decoder,
                List.of(new EncodedExample(new int[] {1}, new int[] {5, EvalFixtures.VOCAB})), all, 1));
        assertTrue(vocab.getMessage().contains("example 0: response token id 80 at index 1"), vocab.getMessage());
        BadInputException context = assertThrows(BadInputException.class, () -> ResponseLoss.compute(decoder,
                List.of(new EncodedExample(new int[60], new int[10])), all, 1));
        assertTrue(context.getMessage().contains("do not fit in the model's context of 64"), context.getMessage());
        assertThrows(BadInputException.class, () -> ResponseLoss.compute(decoder, List.of(), all, 1));
        assertThrows(BadInputException.class, () -> new EncodedExample(new int[] {1}, new int[0]));
        assertThrows(BadInputException.class, () -> ResponseLoss.compute(decoder, EvalFixtures.examples(),
                SkipPolicy.fixed(RetainedLayers.of(0, 7)), 1));
    }

    @Test
    void batchesRespectSizeAndContext() {
        int[] prompts = {25, 3, 50, 3, 30};
        int[] fresh = {34, 40, 5, 10, 5};
        List<int[]> batches = Batches.plan(5, i -> prompts[i], i -> fresh[i], 2, 60);
        int seen = 0;
        for (int[] b : batches) {
            assertTrue(b.length <= 2);
            int p = 0;
            int n = 0;
            for (int i : b) {
                p = Math.max(p, prompts[i]);
                n = Math.max(n, fresh[i]);
                seen++;
            }
            assertTrue(p + n <= 60, "batch over the context: " + java.util.Arrays.toString(b));
        }
        assertEquals(5, seen);
        // ordered by prompt length; 0 and 4 would need 30 + 34 > 60 positions together
        assertEquals(List.of("[1, 3]", "[0]", "[4, 2]"), batches.stream().map(java.util.Arrays::toString).toList());
    }
}
