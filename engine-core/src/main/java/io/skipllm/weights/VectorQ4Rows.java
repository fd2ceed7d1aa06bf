package io.skipllm.weights;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_0 weights, dequantized in registers: a block's 16 bytes give the low nibbles (weights 0..15) and the
 * high nibbles (weights 16..31), each shifted by -8, widened to floats and scaled by the block's F16
 * scale, then fed to every input row's sums in float32. The Java fallback for the native kernels
 * ({@link NativeKernels}), which dot int8-quantized inputs instead.
 */
final class VectorQ4Rows extends VectorRows {

    private static final int BLOCK = WeightFormat.Q4_BLOCK;
    /** Bytes loaded per widening: one per float lane (16 of a block's bytes on 512-bit machines). */
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * LANES));
    /** Float vectors per half block (16 weights): 1 on 512-bit machines, 2 on 256-bit ones. */
    private static final int PER_HALF = 16 / LANES;

    /** Columns in whole blocks, which the vector loop covers; the padded last block is summed one by one. */
    private final int vectorCols;
    /** Bytes of scales at the start of a row (then the nibbles). */
    private final int scaleBytes;

    VectorQ4Rows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
        this.vectorCols = cols - cols % BLOCK;
        this.scaleBytes = 2 * ((cols + BLOCK - 1) / BLOCK);
    }

    @Override
    void fourInputs(ByteBuffer data, int rowAt, int i, int outRow) {
        int x0 = i * cols;
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        FloatVector a1 = a0;
        FloatVector b1 = a0;
        FloatVector a2 = a0;
        FloatVector b2 = a0;
        FloatVector a3 = a0;
        FloatVector b3 = a0;
        for (int c = 0; c < vectorCols; c += BLOCK) {
            int nibblesAt = rowAt + scaleBytes + (c / BLOCK) * 16;
            float scale = HalfFloats.f16ToFloat(data.getShort(rowAt + 2 * (c / BLOCK)));
            for (int h = 0; h < PER_HALF; h++) {
                ByteVector packed = VectorAccess.bytes(BYTES, data, nibblesAt + h * LANES);
                FloatVector low = nibbles(packed.and((byte) 0xF)).mul(scale);
                FloatVector high = nibbles(packed.lanewise(VectorOperators.LSHR, 4)).mul(scale);
                int lo = c + h * LANES;
                int hi = lo + 16;
                a0 = low.fma(FloatVector.fromArray(FLOATS, x, x0 + lo), a0);
                b0 = high.fma(FloatVector.fromArray(FLOATS, x, x0 + hi), b0);
                a1 = low.fma(FloatVector.fromArray(FLOATS, x, x1 + lo), a1);
                b1 = high.fma(FloatVector.fromArray(FLOATS, x, x1 + hi), b1);
                a2 = low.fma(FloatVector.fromArray(FLOATS, x, x2 + lo), a2);
                b2 = high.fma(FloatVector.fromArray(FLOATS, x, x2 + hi), b2);
                a3 = low.fma(FloatVector.fromArray(FLOATS, x, x3 + lo), a3);
                b3 = high.fma(FloatVector.fromArray(FLOATS, x, x3 + hi), b3);
            }
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, x0)));
        store(i + 1, outRow, total(a1, b1, tail(data, rowAt, x1)));
        store(i + 2, outRow, total(a2, b2, tail(data, rowAt, x2)));
        store(i + 3, outRow, total(a3, b3, tail(data, rowAt, x3)));
    }

    @Override
    void oneInput(ByteBuffer data, int rowAt, int i, int outRow) {
        int x0 = i * cols;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        for (int c = 0; c < vectorCols; c += BLOCK) {
            int nibblesAt = rowAt + scaleBytes + (c / BLOCK) * 16;
            float scale = HalfFloats.f16ToFloat(data.getShort(rowAt + 2 * (c / BLOCK)));
            for (int h = 0; h < PER_HALF; h++) {
                ByteVector packed = VectorAccess.bytes(BYTES, data, nibblesAt + h * LANES);
                FloatVector low = nibbles(packed.and((byte) 0xF)).mul(scale);
                FloatVector high = nibbles(packed.lanewise(VectorOperators.LSHR, 4)).mul(scale);
                int lo = c + h * LANES;
                a0 = low.fma(FloatVector.fromArray(FLOATS, x, x0 + lo), a0);
                b0 = high.fma(FloatVector.fromArray(FLOATS, x, x0 + lo + 16), b0);
            }
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, x0)));
    }

    /** Nibble values 0..15 as the weights' integers -8..7, in floats. */
    private static FloatVector nibbles(ByteVector values) {
        return (FloatVector) values.sub((byte) 8).convertShape(VectorOperators.B2F, FLOATS, 0);
    }

    /** The partial last block, weight by weight (its padding is never read). */
    private float tail(ByteBuffer data, int rowAt, int xAt) {
        if (vectorCols == cols) {
            return 0;
        }
        int nibblesAt = rowAt + scaleBytes + (vectorCols / BLOCK) * 16;
        float scale = HalfFloats.f16ToFloat(data.getShort(rowAt + 2 * (vectorCols / BLOCK)));
        float sum = 0;
        for (int c = vectorCols; c < cols; c++) {
            int j = c - vectorCols;
            int packed = data.get(nibblesAt + j % 16) & 0xFF;
            int q = (j < 16 ? packed & 0xF : packed >>> 4) - 8;
            sum += scale * q * x[xAt + c];
        }
        return sum;
    }
}
