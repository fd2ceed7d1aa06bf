package io.skipllm.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Off-heap buffers for converted weights, from the C allocator. Why not {@code ByteBuffer.allocateDirect}:
 * the JVM caps direct buffers at the heap size by default (a quarter of the machine), and a 7B model in
 * Q8_0 needs 7 GB; why not ND4J arrays: they count against JavaCPP's byte limits, which the KV cache and
 * activations also use. The memory check before loading ({@link io.skipllm.model.LoadMemory}) is what
 * bounds these allocations.
 */
final class NativeMemory {

    private NativeMemory() {
    }

    /** A zeroed little-endian buffer of {@code bytes} (at most 2^31 - 1) and the action that frees it. */
    static Allocation allocate(long bytes) {
        if (bytes < 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a weight buffer holds at most 2^31 - 1 bytes, asked for " + bytes);
        }
        Pointer raw = Pointer.calloc(Math.max(1, bytes), 1);
        if (raw == null || raw.isNull()) {
            throw new OutOfMemoryError("could not allocate " + bytes + " bytes of native memory for weights");
        }
        ByteBuffer buffer = new BytePointer(raw).capacity(bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new Allocation(buffer, () -> Pointer.free(raw));
    }

    /** A buffer and how to free it (run once). */
    record Allocation(ByteBuffer buffer, Runnable free) {
    }
}
