package io.skipllm.weights;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 weights, dequantized in registers: a block's signed bytes are widened to floats and multiplied by
 * the block's scale once, then fed to every input row's sums in float32.
 *
 * <p>Tried and measured no faster (JDK 17, AVX-512): quantizing the inputs to int8 as llama.cpp does
 * (int16 products, pairs summed to int32, one int-to-float conversion and fused multiply-add per
 * block), about as many vector operations per block as this loop without an int8 dot-product
 * instruction, which the Vector API does not expose, and it changes the results; one 256-bit load per
 * block widened a half at a time (5% slower on two threads); the scale applied once per block to a
 * partial sum; a loop over two weight rows, as F32 has (compiled with its vectors boxed, see
 * {@link VectorF32Rows}).
 */
final class VectorQ8Rows extends VectorRows {

    private static final int BLOCK = WeightFormat.Q8_BLOCK;
    private static final int BLOCK_BYTES = 4 + BLOCK;
    /** Bytes loaded per widening: one per float lane, but at least the narrowest byte vector (64 bits). */
    private static final VectorSpecies<Byte> BYTES =
            ByteVector.SPECIES_64.length() >= LANES ? ByteVector.SPECIES_64
                    : VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * LANES));
    /** Whether a byte vector widens to exactly one float vector (256- and 512-bit machines). */
    private static final boolean ONE_PART = BYTES.length() == LANES;

    /** Columns in whole blocks, which the vector loop covers; the padded last block is summed one by one. */
    private final int vectorCols;

    VectorQ8Rows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
        this.vectorCols = cols - cols % BLOCK;
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
        for (int c = 0; c < vectorCols; c += 2 * LANES) {
            int blockAt = rowAt + (c / BLOCK) * BLOCK_BYTES;
            int within = c % BLOCK;
            float scale = data.getFloat(blockAt);
            FloatVector wa = weights(data, blockAt, within).mul(scale);
            FloatVector wb = weights(data, blockAt, within + LANES).mul(scale);
            a0 = wa.fma(FloatVector.fromArray(FLOATS, x, x0 + c), a0);
            b0 = wb.fma(FloatVector.fromArray(FLOATS, x, x0 + c + LANES), b0);
            a1 = wa.fma(FloatVector.fromArray(FLOATS, x, x1 + c), a1);
            b1 = wb.fma(FloatVector.fromArray(FLOATS, x, x1 + c + LANES), b1);
            a2 = wa.fma(FloatVector.fromArray(FLOATS, x, x2 + c), a2);
            b2 = wb.fma(FloatVector.fromArray(FLOATS, x, x2 + c + LANES), b2);
            a3 = wa.fma(FloatVector.fromArray(FLOATS, x, x3 + c), a3);
            b3 = wb.fma(FloatVector.fromArray(FLOATS, x, x3 + c + LANES), b3);
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
        for (int c = 0; c < vectorCols; c += 2 * LANES) {
            int blockAt = rowAt + (c / BLOCK) * BLOCK_BYTES;
            int within = c % BLOCK;
            float scale = data.getFloat(blockAt);
            FloatVector wa = weights(data, blockAt, within).mul(scale);
            FloatVector wb = weights(data, blockAt, within + LANES).mul(scale);
            a0 = wa.fma(FloatVector.fromArray(FLOATS, x, x0 + c), a0);
            b0 = wb.fma(FloatVector.fromArray(FLOATS, x, x0 + c + LANES), b0);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, x0)));
    }

    /** The quantized weights {@code within .. within + LANES - 1} of the block at {@code blockAt}, as floats. */
    private static FloatVector weights(ByteBuffer data, int blockAt, int within) {
        if (ONE_PART) {
            return (FloatVector) VectorAccess.bytes(BYTES, data, blockAt + 4 + within)
                    .convertShape(VectorOperators.B2F, FLOATS, 0);
        }
        int skip = within % BYTES.length();
        return (FloatVector) VectorAccess.bytes(BYTES, data, blockAt + 4 + within - skip)
                .convertShape(VectorOperators.B2F, FLOATS, skip / LANES);
    }

    /** The partial last block, weight by weight (its padding is never read). */
    private float tail(ByteBuffer data, int rowAt, int xAt) {
        float sum = 0;
        int blockAt = rowAt + (vectorCols / BLOCK) * BLOCK_BYTES;
        for (int c = vectorCols; c < cols; c++) {
            sum += data.getFloat(blockAt) * data.get(blockAt + 4 + c - vectorCols) * x[xAt + c];
        }
        return sum;
    }
}
