package io.skipllm.checkpoint;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tensors one model needs, each with the shape its config implies, loaded all or nothing.
 *
 * <p>{@link #load()} first checks every name, shape and dtype against the headers (cheap: no data is
 * read), so a checkpoint that lacks one tensor or has one wrong shape fails before gigabytes are read;
 * only then does it read the data. If reading fails part way, the arrays already read are freed, and
 * no partially loaded model can escape.
 */
public final class TensorRequest {

    private static final Logger LOG = LoggerFactory.getLogger(TensorRequest.class);

    private final TensorStore store;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    public TensorRequest(TensorStore store) {
        this.store = store;
    }

    /** Requests {@code name} with exactly {@code shape}. */
    public TensorRequest add(String name, long... shape) {
        long[] previous = shapes.put(name, shape.clone());
        if (previous != null && !Arrays.equals(previous, shape)) {
            throw new IllegalArgumentException("tensor " + name + " requested with two shapes");
        }
        return this;
    }

    /** Checks every requested name, shape and dtype against the headers, reading no data. */
    public TensorRequest validate() {
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            store.require(e.getKey(), e.getValue());
        }
        return this;
    }

    /** Validates every requested tensor, then reads them all (FLOAT, detached from workspaces). */
    public LoadedTensors load() {
        validate();
        LoadedTensors loaded = new LoadedTensors();
        try {
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                INDArray tensor = store.loadFloat(e.getKey(), e.getValue());
                loaded.put(e.getKey(), tensor);
                requireFinite(e.getKey(), tensor);
            }
        } catch (RuntimeException | Error e) {
            loaded.close();
            throw e;
        }
        LOG.debug("{}: loaded {} tensors", store.location(), shapes.size());
        return loaded;
    }

    /**
     * A NaN or infinite weight means a corrupted or broken checkpoint; it is reported here with the
     * tensor's name instead of surfacing later as NaN logits. (The store itself widens values exactly,
     * infinities included.)
     */
    private void requireFinite(String name, INDArray tensor) {
        long bad = Nd4j.getExecutioner().exec(new MatchCondition(tensor, Conditions.notFinite())).getLong(0);
        if (bad > 0) {
            throw new CheckpointException(store.location() + ": tensor '" + name + "' has " + bad
                    + " NaN or infinite values; weights must be finite");
        }
    }
}
