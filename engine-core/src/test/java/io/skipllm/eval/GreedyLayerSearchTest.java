package io.skipllm.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class GreedyLayerSearchTest {

    @Test
    void dropsTheCheapestLayerEachRoundUntilTheSmallestTarget() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        List<EncodedExample> dev = EvalFixtures.examples();
        int target = LayerSkipPlanner.unified(EvalFixtures.LAYERS, 2).size();
        assertEquals(2, target);
        GreedyLayerSearch.Result result = GreedyLayerSearch.search(decoder, dev, List.of(target, 3), 3, null);

        assertEquals(ResponseLoss.compute(decoder, dev, SkipPolicy.fixed(RetainedLayers.all(4)), 1).meanNats(),
                result.fullDevLoss(), 1e-4);
        assertEquals(2, result.path().size(), "one layer per round, 4 -> 3 -> 2");
        Set<Integer> current = new TreeSet<>(List.of(0, 1, 2, 3));
        for (GreedyLayerSearch.Round round : result.path()) {
            assertEquals(current, round.candidates().keySet(), "every remaining layer is a candidate");
            double min = Collections.min(round.candidates().values());
            assertEquals(min, round.candidates().get(round.dropped()), 0.0, "the dropped layer is the argmin");
            assertEquals(min, round.devLoss(), 0.0);
            current.remove(round.dropped());
            assertEquals(new ArrayList<>(current), toList(round.retained()));
            // the recorded loss is the loss of that set, computed independently (other batch size)
            assertEquals(EvalFixtures.manualMeanLoss(decoder, dev, round.retained(), null), round.devLoss(), 1e-4);
        }
        List<Double> firstRound = new ArrayList<>(result.path().get(0).candidates().values());
        assertTrue(new TreeSet<>(firstRound).size() == firstRound.size(), "distinct losses: the choice means something");
        assertEquals(Set.of(2, 3), result.setsBySize().keySet());
        assertEquals(2, result.setOfSize(2).size());
        assertEquals(result.path().get(0).retained(), result.setOfSize(3));
        assertEquals(result.path().get(1).retained(), result.setOfSize(2));
    }

    @Test
    void badTargetsAreRefused() {
        SkipAwareDecoder decoder = EvalFixtures.decoder();
        assertThrows(BadInputException.class, () -> GreedyLayerSearch.search(decoder, EvalFixtures.examples(),
                List.of(0), 1, null));
        assertThrows(BadInputException.class, () -> GreedyLayerSearch.search(decoder, EvalFixtures.examples(),
                List.of(5), 1, null));
        assertThrows(BadInputException.class, () -> GreedyLayerSearch.search(decoder, EvalFixtures.examples(),
                List.of(), 1, null));
        GreedyLayerSearch.Result none = GreedyLayerSearch.search(decoder, EvalFixtures.examples(), List.of(4), 2, null);
        assertEquals(0, none.path().size());
        assertEquals(RetainedLayers.all(4), none.setOfSize(4));
    }

    private static List<Integer> toList(RetainedLayers layers) {
        List<Integer> out = new ArrayList<>();
        for (int l : layers.indices()) {
            out.add(l);
        }
        return out;
    }
}
