package io.skipllm.checkpoint;

import io.skipllm.weights.HalfFloats;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Copies one tensor's bytes from a file into a new float32 ND4J array, widening F16/BF16 on the way.
 *
 * <p>The file is mapped one region at a time (at most {@link #MAX_REGION_BYTES}), never whole: a
 * MappedByteBuffer is limited to 2 GiB and checkpoints are often larger. Values are decoded through a
 * small reusable float[] straight into the array's native memory, so loading never holds a second
 * full-size copy of a tensor on the Java heap.
 */
final class TensorDecoder {

    /** Largest region mapped at once; a multiple of every element size. */
    static final long MAX_REGION_BYTES = 1L << 30;

    private static final int CHUNK_ELEMENTS = 1 << 16;

    private TensorDecoder() {
    }

    /**
     * Reads {@code shape}'s elements of {@code dtype} starting at absolute file offset {@code position}.
     * The caller has checked that the bytes lie inside the file and match the shape.
     */
    static INDArray decode(FileChannel channel, long position, SafetensorsDtype dtype, long[] shape)
            throws IOException {
        return decode(channel, position, dtype, shape, MAX_REGION_BYTES);
    }

    /** As above, mapping at most {@code maxRegionBytes} at a time (small values exercise the region loop). */
    static INDArray decode(FileChannel channel, long position, SafetensorsDtype dtype, long[] shape,
            long maxRegionBytes) throws IOException {
        long count = 1;
        for (long d : shape) {
            count = Math.multiplyExact(count, d);
        }
        if (count == 0) {
            return Nd4j.create(DataType.FLOAT, shape, 'c');
        }
        INDArray out = Nd4j.createUninitializedDetached(DataType.FLOAT, 'c', shape);
        // pointer(), not addressPointer(): on the CUDA backend a new array lives on the device only and
        // addressPointer() is null there, while pointer() allocates the host mirror first (on the CPU
        // backend both are the same memory).
        FloatPointer target = new FloatPointer(out.data().pointer());
        try {
            float[] chunk = new float[(int) Math.min(count, CHUNK_ELEMENTS)];
            long regionElements = Math.max(1, maxRegionBytes / dtype.bytes);
            for (long done = 0; done < count; ) {
                long n = Math.min(count - done, regionElements);
                MappedByteBuffer region = channel.map(FileChannel.MapMode.READ_ONLY, position + done * dtype.bytes,
                        n * dtype.bytes);
                try {
                    region.order(ByteOrder.LITTLE_ENDIAN);
                    copy(region, dtype, (int) n, target, done, chunk);
                } finally {
                    Unmapper.unmap(region);
                }
                done += n;
            }
        } catch (IOException | RuntimeException | Error e) {
            out.close();
            throw e;
        }
        // The bytes were written behind ND4J's back: tell it the host copy is the current one, so the CUDA
        // backend copies it to the device before the first use (a no-op on the CPU backend).
        Nd4j.getAffinityManager().tagLocation(out, AffinityManager.Location.HOST);
        return out;
    }

    /** Decodes {@code n} elements of {@code region} into {@code target[offset ..]}, a chunk at a time. */
    private static void copy(MappedByteBuffer region, SafetensorsDtype dtype, int n, FloatPointer target,
            long offset, float[] chunk) {
        FloatBuffer floats = dtype == SafetensorsDtype.F32 ? region.asFloatBuffer() : null;
        ShortBuffer shorts = dtype == SafetensorsDtype.F32 ? null : region.asShortBuffer();
        short[] raw = shorts == null ? null : new short[chunk.length];
        for (int done = 0; done < n; ) {
            int m = Math.min(chunk.length, n - done);
            switch (dtype) {
                case F32 -> floats.get(chunk, 0, m);
                case F16 -> {
                    shorts.get(raw, 0, m);
                    for (int i = 0; i < m; i++) {
                        chunk[i] = HalfFloats.f16ToFloat(raw[i]);
                    }
                }
                case BF16 -> {
                    shorts.get(raw, 0, m);
                    for (int i = 0; i < m; i++) {
                        chunk[i] = HalfFloats.bf16ToFloat(raw[i]);
                    }
                }
                default -> throw new IllegalArgumentException("not a float dtype: " + dtype);
            }
            target.position(offset + done).put(chunk, 0, m);
            done += m;
        }
    }
}
