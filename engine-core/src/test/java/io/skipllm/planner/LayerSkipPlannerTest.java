package io.skipllm.planner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LayerSkipPlannerTest {

    private static int[] range(int from, int toInclusive) {
        return IntStream.rangeClosed(from, toInclusive).toArray();
    }

    // ---- Paper Table 2 (BLOOMZ-7B, N = 30) ----

    @Test
    void table2Unified2x() {
        assertArrayEquals(new int[] {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 29},
                LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, 2).indices());
    }

    @Test
    void table2Unified3x() {
        assertArrayEquals(new int[] {0, 3, 6, 9, 12, 15, 18, 21, 24, 29},
                LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, 3).indices());
    }

    @Test
    void table2Unified5xFollowsReleasedCodeNotLiteralPseudoCode() {
        // The literal "i mod r" pseudo-code would give {0,5,10,15,20,29}; Table 2 says this.
        assertArrayEquals(new int[] {0, 6, 12, 18, 24, 29},
                LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, 5).indices());
    }

    @Test
    void table2FullModel() {
        assertArrayEquals(range(0, 29), LayerSkipPlanner.plan(SkipStrategy.FULL, 30, 1).indices());
        assertArrayEquals(range(0, 29), LayerSkipPlanner.plan(SkipStrategy.FULL, 30, 5).indices());
    }

    @ParameterizedTest(name = "top {0}x keeps 0..{1}")
    @CsvSource({"2, 14", "3, 9", "5, 5"})
    void table2SkipTopLayers(double speedup, int lastKept) {
        assertArrayEquals(range(0, lastKept), LayerSkipPlanner.plan(SkipStrategy.TOP, 30, speedup).indices());
    }

    @ParameterizedTest(name = "bottom {0}x keeps {1}..29")
    @CsvSource({"2, 15", "3, 20", "5, 24"})
    void table2SkipBottomLayers(double speedup, int firstKept) {
        assertArrayEquals(range(firstKept, 29), LayerSkipPlanner.plan(SkipStrategy.BOTTOM, 30, speedup).indices());
    }

    // ---- Paper Table 6 (LLaMA-13B, N = 40): number of activated layers ----

    @ParameterizedTest(name = "N=40 at {0}x keeps {1} layers")
    @CsvSource({"2, 20", "3, 13", "4, 10", "5, 8", "10, 4"})
    void table6LayerCounts(double speedup, int expected) {
        RetainedLayers retained = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 40, speedup);
        assertEquals(expected, retained.size());
        assertTrue(retained.contains(0));
        assertTrue(retained.contains(39));
    }

    // ---- Edge cases ----

    @Test
    void speedupOneKeepsAllLayers() {
        assertArrayEquals(range(0, 31), LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 32, 1).indices());
        assertArrayEquals(range(0, 31), LayerSkipPlanner.plan(SkipStrategy.TOP, 32, 1).indices());
        assertArrayEquals(range(0, 31), LayerSkipPlanner.plan(SkipStrategy.BOTTOM, 32, 1).indices());
    }

    @Test
    void oneLayerModelKeepsLayerZero() {
        for (SkipStrategy s : SkipStrategy.values()) {
            assertArrayEquals(new int[] {0}, LayerSkipPlanner.plan(s, 1, 1).indices(), s.cliName());
            assertArrayEquals(new int[] {0}, LayerSkipPlanner.plan(s, 1, 7.5).indices(), s.cliName());
        }
    }

    @Test
    void fewerThanTwoTargetLayersKeepsFirstAndLast() {
        // floor(30 / 20) = 1 and floor(30 / 100) = 0: the ends are always kept.
        assertArrayEquals(new int[] {0, 29}, LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, 20).indices());
        assertArrayEquals(new int[] {0, 29}, LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, 100).indices());
        assertArrayEquals(new int[] {0, 29}, LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, 15).indices());
        assertArrayEquals(new int[] {0, 1}, LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 2, 1).indices());
    }

    @Test
    void topAndBottomKeepAtLeastOneLayer() {
        assertArrayEquals(new int[] {0}, LayerSkipPlanner.plan(SkipStrategy.TOP, 30, 100).indices());
        assertArrayEquals(new int[] {29}, LayerSkipPlanner.plan(SkipStrategy.BOTTOM, 30, 100).indices());
    }

    @Test
    void nonIntegerSpeedupWorks() {
        // M = floor(30 / 2.5) = 12; interval = floor(30 / 11) = 2
        RetainedLayers r = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, 2.5);
        assertArrayEquals(new int[] {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 29}, r.indices());
        assertEquals(12, LayerSkipPlanner.plan(SkipStrategy.TOP, 30, 2.5).size());
        assertEquals(22, LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 32, 1.45).size());
    }

    @Test
    void unifiedKeepsExactlyTargetCountAcrossManyShapes() {
        for (int n = 1; n <= 80; n++) {
            for (double r = 1; r <= 12; r += 0.25) {
                RetainedLayers ret = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, n, r);
                int target = (int) Math.floor(n / r);
                int expected = n == 1 ? 1 : Math.max(2, target);
                assertEquals(expected, ret.size(), "N=" + n + " r=" + r);
                assertTrue(ret.contains(0));
                assertTrue(ret.contains(n - 1));
            }
        }
    }

    @Test
    void invalidInputsAreRejectedWithClearMessages() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, 0.5));
        assertTrue(e.getMessage().contains("speedup must be >= 1"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, Double.NaN));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(BadInputException.class,
                () -> LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 30, Double.POSITIVE_INFINITY));
        assertTrue(e.getMessage().contains("Infinity"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 0, 2));
        assertTrue(e.getMessage().contains("number of layers must be >= 1, got 0"), e.getMessage());
        assertThrows(BadInputException.class, () -> LayerSkipPlanner.plan(SkipStrategy.TOP, -3, 2));
        assertThrows(BadInputException.class, () -> LayerSkipPlanner.plan(SkipStrategy.FULL, 30, -1));
        assertThrows(BadInputException.class, () -> LayerSkipPlanner.plan(null, 30, 2));
    }

    // ---- Explicit lists and the value type ----

    @Test
    void explicitListIsSortedAndValidated() {
        assertArrayEquals(new int[] {0, 3, 6}, LayerSkipPlanner.explicit(8, 6, 0, 3).indices());
        BadInputException e = assertThrows(BadInputException.class, () -> LayerSkipPlanner.explicit(8, 0, 8));
        assertTrue(e.getMessage().contains("layer 8 does not exist"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> LayerSkipPlanner.explicit(8, 0, 3, 3));
        assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> LayerSkipPlanner.explicit(8, -1));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> LayerSkipPlanner.explicit(8));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void retainedLayersIsAnImmutableValue() {
        int[] given = {5, 1, 3};
        RetainedLayers r = RetainedLayers.of(given);
        given[0] = 99;
        assertArrayEquals(new int[] {1, 3, 5}, r.indices());
        r.indices()[0] = 42;
        assertArrayEquals(new int[] {1, 3, 5}, r.indices());
        assertEquals(RetainedLayers.of(1, 3, 5), r);
        assertEquals(RetainedLayers.of(5, 3, 1).hashCode(), r.hashCode());
        assertNotEquals(RetainedLayers.of(1, 3), r);
        assertEquals("[1, 3, 5]", r.toString());
        assertTrue(r.contains(3));
        assertFalse(r.contains(2));
        assertEquals(3, r.size());
        assertEquals(5, r.last());
    }

    @Test
    void strategyNamesParse() {
        assertEquals(SkipStrategy.UNIFIED, SkipStrategy.fromName("unified"));
        assertEquals(SkipStrategy.BOTTOM, SkipStrategy.fromName("BOTTOM"));
        BadInputException e = assertThrows(BadInputException.class, () -> SkipStrategy.fromName("middle"));
        assertTrue(e.getMessage().contains("middle") && e.getMessage().contains("unified"), e.getMessage());
    }
}
