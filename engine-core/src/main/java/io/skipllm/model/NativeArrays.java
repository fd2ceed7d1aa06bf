package io.skipllm.model;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Frees weight arrays' native memory now instead of whenever the garbage collector gets to them. */
public final class NativeArrays {

    private NativeArrays() {
    }

    /**
     * Closes each distinct array once (a tied LM head is the embedding array itself, and closing an
     * array twice is an error in ND4J). Nulls are skipped, and so are views and workspace arrays: they
     * do not own their memory ({@code closeable()} is false), their base array or workspace does.
     */
    public static void close(Iterable<INDArray> arrays) {
        Set<INDArray> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (INDArray array : arrays) {
            if (array != null && seen.add(array) && !array.isView() && array.closeable()) {
                array.close();
            }
        }
    }
}
