package io.skipllm.weights;

import java.nio.FloatBuffer;

/**
 * One query head's attention over cached keys and values, on the native kernels ({@link NativeKernels}):
 * the cache is read where it lives (a direct buffer) instead of being copied into Java arrays first, which
 * at a few hundred slots took as long as the scores themselves (measured: attention was a quarter of a
 * decode step of a 32-layer hidden-1024 model). Available exactly when the weight products run natively;
 * callers keep their Java loop for the other case.
 */
public final class NativeAttention {

    private NativeAttention() {
    }

    /** Whether {@link #attend} may be called (the native kernels are the ones in use). */
    public static boolean available() {
        return MatMul.nativeKernelsInUse();
    }

    /**
     * softmax(scale q.k_t + bias_t) over slots {@code t < slots}, times the values, into
     * {@code out[outAt, outAt + headDim)}: slot t's key and value are floats {@code blockAt + t * headDim}
     * of {@code keys} and {@code values} (direct buffers), the query {@code query[queryAt ..]}, the bias
     * {@code bias[t]} (null: none); {@code scratch} holds at least {@code slots} floats. A head that sees
     * no slot gets a zero context.
     */
    public static void attend(FloatBuffer keys, FloatBuffer values, long blockAt, int slots, int headDim,
            float[] query, int queryAt, float[] bias, float scale, float[] scratch, float[] out, int outAt) {
        if (!available()) {
            throw new IllegalStateException("the native kernels are not in use");
        }
        if (!keys.isDirect() || !values.isDirect() || headDim <= 0 || headDim > 256 || slots < 0
                || blockAt < 0 || blockAt + (long) slots * headDim > Math.min(keys.capacity(), values.capacity())
                || queryAt < 0 || queryAt + headDim > query.length || outAt < 0 || outAt + headDim > out.length
                || scratch.length < slots || bias != null && bias.length < slots) {
            throw new IllegalArgumentException("attention arguments out of range: " + slots + " slots of "
                    + headDim + " from float " + blockAt + " of " + keys.capacity());
        }
        NativeKernels.attend(keys, values, blockAt, slots, headDim, query, queryAt, bias, scale, scratch, out, outAt);
    }
}
