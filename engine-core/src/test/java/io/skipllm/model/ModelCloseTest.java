package io.skipllm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.generation.GenerationConfig;
import io.skipllm.planner.RetainedLayers;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/** Closing a model frees its weights, refuses further use, and never frees memory under a session. */
class ModelCloseTest {

    private static final long MB = 1L << 20;

    private static LlamaConfig config(int hidden, int intermediate, int layers, int heads, int headDim, int vocab) {
        return new LlamaConfig("LlamaForCausalLM", hidden, intermediate, layers, heads, heads, headDim, vocab, 64,
                1e-6, 10000.0, true, false, "silu", List.of(3), 1, null);
    }

    private static LlamaConfig small() {
        return config(32, 48, 2, 4, 8, 40);
    }

    @Test
    void aClosedModelRefusesUse() {
        Model model = Model.of(RandomModels.llama(small(), 1));
        SkipAwareDecoder earlier = model.decoder();
        model.close();
        model.close(); // idempotent
        assertTrue(model.isReleased());
        assertEquals("model is closed", assertThrows(IllegalStateException.class, model::decoder).getMessage());
        assertEquals("model is closed", assertThrows(IllegalStateException.class, model::generator).getMessage());
        assertThrows(IllegalStateException.class,
                () -> earlier.start(new int[][] {{1, 2}}, 2, RetainedLayers.all(2)));
        assertThrows(IllegalStateException.class, () -> earlier.withMemoryLimit(1L << 30)
                .start(new int[][] {{1, 2}}, 2, RetainedLayers.all(2)));
    }

    @Test
    void aSessionOpenedBeforeCloseStillDecodesAndMemoryIsFreedWhenItCloses() {
        Model model = Model.of(RandomModels.llama(small(), 2));
        RetainedLayers all = RetainedLayers.all(2);
        int[] feed = {4, 9, 17, 2};
        float[][] expected = new float[feed.length + 1][];
        try (DecodeSession reference = model.decoder().start(new int[][] {{1, 5, 6}}, feed.length, all)) {
            expected[0] = reference.logits().getRow(0).toFloatVector();
            for (int i = 0; i < feed.length; i++) {
                expected[i + 1] = reference.decode(new int[] {feed[i]}).getRow(0).toFloatVector();
            }
        }
        DecodeSession session = model.decoder().start(new int[][] {{1, 5, 6}}, feed.length, all);
        model.close();
        assertTrue(model.isClosed());
        assertFalse(model.isReleased(), "memory must not be freed while a session is open");
        assertArrayEquals(expected[0], session.logits().getRow(0).toFloatVector());
        for (int i = 0; i < feed.length; i++) {
            assertArrayEquals(expected[i + 1], session.decode(new int[] {feed[i]}).getRow(0).toFloatVector());
        }
        session.close();
        assertTrue(model.isReleased(), "memory is freed when the last session closes");
        session.close(); // closing twice does not count twice
        assertTrue(model.isReleased());
    }

    @Test
    void repeatedLoadCloseCyclesOfACheckpointDoNotGrowNativeMemory() {
        Path fixture = Path.of("../models/reference/fixtures/qwen2-bias");
        List<Model> closed = new ArrayList<>();
        Runnable cycle = () -> {
            try (Model model = Model.load(fixture)) {
                closed.add(model);
                model.generator().generate(new int[] {1, 2, 3}, GenerationConfig.builder().fullDepth().maxNewTokens(3)
                        .build());
            }
        };
        long growth = growth(cycle, 5, 30);
        assertEquals(35, closed.size());
        assertTrue(growth < 64 * MB, "native memory grew by " + growth / MB + " MB over 30 load/close cycles");
    }

    @Test
    void repeatedCyclesOfALargeModelDoNotGrowNativeMemory() {
        // Hidden 512, 3 layers of 12.5 MB and a tied 2 MB embedding: about 40 MB of weights. No array is
        // above ~6 MB: glibc keeps larger freed blocks in its heap (dynamic mmap threshold), so a single
        // 16 MB array makes RSS creep even when it is freed, which would measure the allocator, not us.
        LlamaConfig config = config(512, 1408, 3, 8, 64, 1000);
        long[] weightBytes = new long[1];
        List<Model> closed = new ArrayList<>();
        Runnable cycle = () -> {
            CausalLm network = RandomModels.llama(config, 7);
            weightBytes[0] = config.numLayers() * network.layerWeightBytes() + network.headWeightBytes();
            try (Model model = Model.of(network)) {
                closed.add(model);
                model.generator().generate(new int[] {1, 2, 3}, GenerationConfig.builder().fullDepth().maxNewTokens(2)
                        .build());
            }
        };
        long growth = growth(cycle, 3, 20);
        assertTrue(weightBytes[0] > 35 * MB, "the model should be large enough to show a leak: " + weightBytes[0]);
        assertTrue(growth < 3 * weightBytes[0], "native memory grew by " + growth / MB + " MB over 20 cycles of a "
                + weightBytes[0] / MB + " MB model");
    }

    /**
     * Physical memory (RSS) growth over {@code cycles} runs, measured after {@code warmUp} runs. The
     * cycles keep their closed models reachable, so the garbage collector cannot free the weights and
     * only {@link Model#close} can; it runs after each cycle to free the garbage that is not ours to
     * close (random generator state, temporaries), which would otherwise raise the allocator's high-water
     * mark and hide the signal.
     */
    private static long growth(Runnable cycle, int warmUp, int cycles) {
        for (int i = 0; i < warmUp; i++) {
            cycle.run();
            System.gc();
        }
        long before = settledPhysicalBytes();
        for (int i = 0; i < cycles; i++) {
            cycle.run();
            System.gc();
        }
        return settledPhysicalBytes() - before;
    }

    /**
     * Lets the garbage collector free unreachable temporaries first, then asks glibc to hand freed heap
     * memory back to the system (malloc_trim), so only what is held counts, not allocator fragmentation.
     */
    private static long settledPhysicalBytes() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        trimMemory();
        return Pointer.physicalBytes();
    }

    /** JavaCPP's malloc_trim wrapper is private (it calls it itself under memory pressure): reflection. */
    private static void trimMemory() {
        try {
            Method trim = Pointer.class.getDeclaredMethod("trimMemory");
            trim.setAccessible(true);
            trim.invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Not available on this platform: the bound is generous enough without it.
        }
    }
}
