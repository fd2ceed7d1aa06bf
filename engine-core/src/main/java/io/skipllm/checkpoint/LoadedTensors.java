package io.skipllm.checkpoint;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Tensors read by a {@link TensorRequest}, plus the arrays a loader derives from them (fused or
 * reordered matrices), owned together until the loader {@link #keep() keeps} them.
 *
 * <p>Closing without {@code keep()} frees every array, so a loader written as
 * {@code try (LoadedTensors t = request.load()) { ...; t.keep(); return weights; }} never leaks
 * off-heap memory on failure and never lets half-built weights out. Parts consumed by
 * {@link #concatRows} or {@link #transform} are freed at once, which keeps peak memory near one copy
 * of the model while fusing.
 */
public final class LoadedTensors implements AutoCloseable {

    private final Map<String, INDArray> byName = new LinkedHashMap<>();
    private final Set<INDArray> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean kept;

    LoadedTensors() {
    }

    void put(String name, INDArray array) {
        byName.put(name, array);
        owned.add(array);
    }

    /** A loaded tensor, by its checkpoint name. */
    public INDArray get(String name) {
        INDArray array = byName.get(name);
        if (array == null) {
            throw new IllegalArgumentException("tensor " + name + " was not requested or was already consumed");
        }
        return array;
    }

    /**
     * The named tensors stacked along dimension 0 (rows of the first, then the second, ...), as a new
     * array; the parts are freed. Fuses q/k/v and gate/up projections.
     */
    public INDArray concatRows(String... names) {
        INDArray[] parts = new INDArray[names.length];
        for (int i = 0; i < names.length; i++) {
            parts[i] = get(names[i]);
        }
        INDArray fused = Nd4j.concat(0, parts);
        owned.add(fused);
        for (String name : names) {
            release(name);
        }
        return fused;
    }

    /**
     * {@code f} applied to the named tensor. When {@code f} returns a new array with its own memory, the
     * original is freed; a view of the original keeps it alive.
     */
    public INDArray transform(String name, UnaryOperator<INDArray> f) {
        INDArray original = get(name);
        INDArray result = f.apply(original);
        boolean independent = result != original && !result.isView() && result.data() != original.data();
        if (independent) {
            owned.add(result);
            release(name);
        }
        return result;
    }

    /** The caller now owns every array handed out; closing frees nothing. */
    public void keep() {
        kept = true;
    }

    /** Frees every array unless {@link #keep()} was called. */
    @Override
    public void close() {
        if (!kept) {
            for (INDArray array : owned) {
                closeQuietly(array);
            }
            owned.clear();
            byName.clear();
        }
    }

    private void release(String name) {
        INDArray array = byName.remove(name);
        if (array != null && owned.remove(array)) {
            closeQuietly(array);
        }
    }

    private static void closeQuietly(INDArray array) {
        if (array.closeable()) {
            array.close();
        }
    }
}
