package io.skipllm.model;

import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.SkipStrategy;
import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets the CPU decode path compiled before the first request needs it. The weight kernels (Vector API)
 * and the host pass's loops run hundreds of times slower until the JIT has compiled them: measured on
 * the shipped model, the first 42-token prefill of a fresh process took 800 ms, later ones 25-33 ms.
 * Loading a model spends about a second in ND4J's native start-up and reading files, during which a
 * core is mostly idle, so a daemon thread uses that time to run every kernel and a tiny model's
 * prefill and decode steps. It runs once per process, never blocks the caller, and stops after
 * {@link #BUDGET_MS} at most.
 */
public final class Warmup {

    private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);

    /** Upper bound on the warm-up's own time. */
    static final long BUDGET_MS = 1500;

    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private Warmup() {
    }

    /**
     * Starts the warm-up in the background, once per process, when the Vector API kernels are in use;
     * {@code -Dskipllm.warmup=false} turns it off.
     */
    public static void startInBackground() {
        // without the Vector API the scalar kernels compile quickly; and a request that fails its
        // validation should not first print the kernels' missing-module warning
        boolean vectorApi = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        if (!vectorApi || !Boolean.parseBoolean(System.getProperty("skipllm.warmup", "true"))
                || !STARTED.compareAndSet(false, true)) {
            return;
        }
        Thread thread = new Thread(Warmup::run, "skipllm-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    private static void run() {
        long deadline = System.nanoTime() + BUDGET_MS * 1_000_000L;
        try {
            kernels(deadline);
            tinyModel(deadline);
        } catch (RuntimeException | Error e) {
            LOG.debug("warm-up stopped early", e);   // it only ever costs time: the real request does the same work
        }
    }

    /** Every format's kernel, at one row and at several (the two code paths of each). */
    private static void kernels(long deadline) {
        int rows = 64;
        int cols = 256;
        float[] x = new float[8 * cols];
        float[] out = new float[8 * rows];
        java.util.Arrays.fill(x, 0.01f);
        for (WeightFormat format : WeightFormat.values()) {
            try (Weight w = Weight.convert((r, into) -> java.util.Arrays.fill(into, 0, cols, 0.5f), rows, cols, format)) {
                for (int i = 0; i < 300 && System.nanoTime() < deadline; i++) {
                    w.matmul(x, 1, out, false);
                    w.matmul(x, 8, out, true);
                }
            }
        }
    }

    /** A tiny LLaMA through the host pass: prefill chunks, decode steps, attention, norms, rotary. */
    private static void tinyModel(long deadline) {
        LlamaConfig config = new LlamaConfig("LlamaForCausalLM", 64, 96, 2, 4, 2, 16, 64, 64, 1e-6, 10000.0, false,
                false, "silu", List.of(2), 1, null);
        CausalLm model = RandomModels.llama(config, 1);
        try {
            SkipAwareDecoder decoder = new SkipAwareDecoder(model);
            int[][] prompt = {{1, 2, 3, 4, 5, 6, 7, 8}};
            while (System.nanoTime() < deadline) {
                try (DecodeSession session = decoder.start(prompt, 8,
                        LayerSkipPlanner.plan(SkipStrategy.UNIFIED, config.numLayers(), 1))) {
                    for (int k = 0; k < 8; k++) {
                        session.decode(new int[] {k});
                    }
                }
            }
        } finally {
            model.close();
        }
    }
}
