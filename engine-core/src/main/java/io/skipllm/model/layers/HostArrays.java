package io.skipllm.model.layers;

import io.skipllm.backend.Backend;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Java access to the memory of ND4J arrays on the CPU backend, for the decode step's small ops.
 *
 * <p>Why: a decode step works on one token per row, so its norms, rotary embedding and attention
 * bookkeeping touch a few thousand floats each, and every ND4J op call costs 30-250 µs of Java-side
 * overhead (op objects, shape buffers, views) on this kind of machine, against ~1 µs for a plain Java
 * loop over the same floats. Measured on a 32-layer hidden-1024 LLaMA, those small ops took two thirds
 * of a step; the weight matmuls, which decide the speed of a memory-bound decoder, the rest. So the
 * layers run these ops as Java loops over the arrays' host memory when this class hands out a buffer,
 * and as ND4J ops otherwise (the CUDA backend, whose arrays live on the device; or any array that is
 * not a plain contiguous float block).
 *
 * <p>Safety: a buffer is only handed out for a float array in 'c' order with default strides whose
 * element 0 is the start of its data buffer's view and whose elements are packed in row-major order, and it covers exactly the array's elements, so a
 * loop cannot reach memory outside the array (the buffer's own bounds checks would throw first).
 */
public final class HostArrays {

    private static volatile Boolean enabled;
    private static volatile Boolean cpu;

    private HostArrays() {
    }

    /**
     * The array's elements as a buffer over its own memory (writes go straight to the array), or null
     * when the caller must use ND4J ops instead.
     */
    public static FloatBuffer floats(INDArray array) {
        return enabled() ? view(array) : null;
    }

    /**
     * As {@link #floats}, whether or not the host loops are switched on: for callers that work on host
     * memory in any case (the weight kernels of the CPU backend). Null for arrays that are not one packed
     * float block on the host, and on a backend other than the CPU.
     */
    public static FloatBuffer view(INDArray array) {
        if (array == null || !cpuBackend() || array.dataType() != DataType.FLOAT || array.ordering() != 'c'
                || !dense(array) || array.offset() != array.data().offset()
                || array.data().length() < array.length() || array.length() > Integer.MAX_VALUE
                || array.length() == 0) {
            return null;
        }
        FloatPointer pointer = new FloatPointer(array.data().addressPointer());
        pointer.capacity(array.length());
        return pointer.asBuffer();
    }

    /**
     * Whether the elements are one gap-free block in row-major order: every dimension longer than 1
     * has the stride of a packed 'c' array (ND4J may give unit dimensions any stride).
     */
    private static boolean dense(INDArray array) {
        long[] shape = array.shape();
        long[] stride = array.stride();
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1) {
                if (stride[d] != expected) {
                    return false;
                }
                expected *= shape[d];
            }
        }
        return true;
    }

    /** Whether ND4J runs on the CPU (its arrays then live in host memory); asked once. */
    public static boolean cpuBackend() {
        Boolean on = cpu;
        if (on == null) {
            on = "CPU".equals(Backend.require().name());
            cpu = on;
        }
        return on;
    }

    /** Whether host loops are in use: on the CPU backend unless switched off. */
    public static boolean enabled() {
        Boolean on = enabled;
        if (on == null) {
            on = !Boolean.getBoolean("skipllm.nd4jOpsOnly") && cpuBackend();
            enabled = on;
        }
        return on;
    }

    /**
     * Switches the host loops on or off (tests compare both paths; {@code -Dskipllm.nd4jOpsOnly=true}
     * does the same for a whole run). Switching on has no effect on a backend other than the CPU.
     */
    public static void setEnabled(boolean on) {
        enabled = on && cpuBackend();
    }
}
