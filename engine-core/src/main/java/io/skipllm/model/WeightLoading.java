package io.skipllm.model;

import io.skipllm.BadInputException;
import io.skipllm.backend.ForwardBackend;
import io.skipllm.checkpoint.TensorStore;
import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The weight matrices one model needs, validated together and then loaded all or nothing, in the format
 * the {@link LoadOptions} ask for. For the host forward pass they become host {@link Weight}s
 * (memory-mapped when kept as stored); for the nd4j forward pass they are float32 ND4J arrays, because
 * ND4J's gemm is what multiplies them there.
 */
public final class WeightLoading {

    private static final Logger LOG = LoggerFactory.getLogger(WeightLoading.class);

    private final TensorStore store;
    private final LoadOptions options;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    public WeightLoading(TensorStore store, LoadOptions options) {
        this.store = store;
        this.options = options;
    }

    /** Requests the matrix {@code name [rows, cols]}. */
    public WeightLoading add(String name, long rows, long cols) {
        shapes.put(name, new long[] {rows, cols});
        return this;
    }

    /** Checks every name, shape and dtype, and that this backend can hold the format; reads no data. */
    public void validate() {
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            store.require(e.getKey(), e.getValue());
        }
        if (options.backend() == ForwardBackend.ND4J && options.weights() != null && options.weights().quantized()) {
            throw new BadInputException("--weights " + options.label() + " needs --backend host: the nd4j forward pass "
                    + "holds weights as float32 ND4J arrays (docs/cuda.md)");
        }
    }

    /**
     * Loads every requested matrix, several at a time (converting a 7B model to Q8_0 is a minute of
     * arithmetic on one core; memory-mapping is instant either way); on failure those already loaded
     * are freed.
     */
    public Loaded load() {
        boolean host = options.backend() == ForwardBackend.HOST;
        if (!host && options.weights() != null && options.weights() != WeightFormat.F32) {
            LOG.warn("weights are kept as float32 on the nd4j backend; --weights {} is ignored", options.label());
        }
        List<String> names = List.copyOf(shapes.keySet());
        Weight[] weights = new Weight[names.size()];
        int threads = host && options.weights() != null ? Runtime.getRuntime().availableProcessors() : 1;
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "skipllm-load");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> tasks = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                int index = i;
                tasks.add(pool.submit(() -> {
                    long[] shape = shapes.get(names.get(index));
                    weights[index] = host ? store.loadWeight(names.get(index), options.weights(), shape[0], shape[1])
                            : Weight.ofArray(store.loadFloat(names.get(index), shape));
                }));
            }
            for (Future<?> task : tasks) {
                task.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeAll(pool, weights);
            throw new IllegalStateException("interrupted while loading weights", e);
        } catch (ExecutionException e) {
            closeAll(pool, weights);
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
        pool.shutdown();
        Loaded loaded = new Loaded();
        for (int i = 0; i < weights.length; i++) {
            loaded.byName.put(names.get(i), weights[i]);
        }
        return loaded;
    }

    /** After a failure: stops the other loads, waits for them, frees everything loaded. */
    private static void closeAll(ExecutorService pool, Weight[] weights) {
        pool.shutdownNow();
        try {
            pool.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Weight w : weights) {
            if (w != null) {
                w.close();
            }
        }
    }

    /** Loaded matrices, owned together until {@link #keep()}: closing without it frees them all. */
    public static final class Loaded implements AutoCloseable {
        private final Map<String, Weight> byName = new LinkedHashMap<>();
        private boolean kept;

        public Weight get(String name) {
            Weight w = byName.get(name);
            if (w == null) {
                throw new IllegalArgumentException("weight " + name + " was not requested or was already consumed");
            }
            return w;
        }

        /**
         * The named matrices stacked row-wise, as one weight (fused projections). Host weights share their
         * parts (no copy); ND4J arrays are concatenated and the parts freed.
         */
        public Weight stack(String... names) {
            Weight[] parts = new Weight[names.length];
            for (int i = 0; i < names.length; i++) {
                parts[i] = get(names[i]);
            }
            Weight fused;
            if (parts[0].onHost()) {
                unifyFormats(parts);
                fused = Weight.stack(parts);    // the parts' memory now belongs to the fused weight
            } else {
                INDArray[] arrays = new INDArray[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    arrays[i] = parts[i].array();
                }
                fused = Weight.ofArray(Nd4j.concat(0, arrays));
                for (Weight p : parts) {
                    p.close();
                }
            }
            for (String name : names) {
                byName.remove(name);
            }
            byName.put(String.join("+", names), fused);
            return fused;
        }

        /** Replaces a loaded matrix with {@code f} of it (a new weight); the original is freed. */
        public Weight replace(String name, UnaryOperator<Weight> f) {
            Weight original = get(name);
            Weight result = f.apply(original);
            if (result != original) {
                original.close();
                byName.put(name, result);
            }
            return result;
        }

        /**
         * Tensors kept as stored may come in different dtypes (a checkpoint mixing F32 and BF16): those
         * to be fused are then all widened to float32, which holds every value exactly.
         */
        private static void unifyFormats(Weight[] parts) {
            boolean mixed = false;
            for (Weight p : parts) {
                mixed |= p.format() != parts[0].format();
            }
            for (int i = 0; mixed && i < parts.length; i++) {
                Weight widened = parts[i].convertTo(WeightFormat.F32);
                if (widened != parts[i]) {
                    parts[i].close();
                    parts[i] = widened;
                }
            }
        }

        public void keep() {
            kept = true;
        }

        @Override
        public void close() {
            if (!kept) {
                byName.values().forEach(Weight::close);
                byName.clear();
            }
        }
    }
}
