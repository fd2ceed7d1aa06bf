package io.skipllm.weights;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * F16 weights. Widening without branches, exact for every finite value (weights are checked finite at
 * load): with the half in an int's top 16 bits, an arithmetic shift right by 3 lines its exponent and
 * mantissa up with float32's, the mask keeps the sign and clears the sign copies; the float read from
 * those bits is the half's value times 2^-112 (normal, or float32-subnormal for a half subnormal), and
 * multiplying by 2^112 is exact.
 */
final class VectorF16Rows extends VectorHalfRows {

    private static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);
    private static final int SIGN_AND_MAGNITUDE = 0x8FFFE000;
    private static final float REBIAS = 0x1p112f;

    VectorF16Rows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
    }

    @Override
    void fourInputs(ByteBuffer data, int rowAt, int i, int outRow) {
        int x0 = i * pairs;
        int x1 = x0 + pairs;
        int x2 = x1 + pairs;
        int x3 = x2 + pairs;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        FloatVector a1 = a0;
        FloatVector b1 = a0;
        FloatVector a2 = a0;
        FloatVector b2 = a0;
        FloatVector a3 = a0;
        FloatVector b3 = a0;
        for (int k = 0; k < vectorPairs; k += LANES) {
            IntVector two = VectorAccess.ints(INTS, data, rowAt + 4 * k);
            FloatVector even = widenTopHalves(two.lanewise(VectorOperators.LSHL, 16));
            FloatVector odd = widenTopHalves(two);
            a0 = even.fma(FloatVector.fromArray(FLOATS, evens, x0 + k), a0);
            b0 = odd.fma(FloatVector.fromArray(FLOATS, odds, x0 + k), b0);
            a1 = even.fma(FloatVector.fromArray(FLOATS, evens, x1 + k), a1);
            b1 = odd.fma(FloatVector.fromArray(FLOATS, odds, x1 + k), b1);
            a2 = even.fma(FloatVector.fromArray(FLOATS, evens, x2 + k), a2);
            b2 = odd.fma(FloatVector.fromArray(FLOATS, odds, x2 + k), b2);
            a3 = even.fma(FloatVector.fromArray(FLOATS, evens, x3 + k), a3);
            b3 = odd.fma(FloatVector.fromArray(FLOATS, odds, x3 + k), b3);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, i)));
        store(i + 1, outRow, total(a1, b1, tail(data, rowAt, i + 1)));
        store(i + 2, outRow, total(a2, b2, tail(data, rowAt, i + 2)));
        store(i + 3, outRow, total(a3, b3, tail(data, rowAt, i + 3)));
    }

    @Override
    void oneInput(ByteBuffer data, int rowAt, int i, int outRow) {
        int x0 = i * pairs;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        for (int k = 0; k < vectorPairs; k += LANES) {
            IntVector two = VectorAccess.ints(INTS, data, rowAt + 4 * k);
            FloatVector even = widenTopHalves(two.lanewise(VectorOperators.LSHL, 16));
            FloatVector odd = widenTopHalves(two);
            a0 = even.fma(FloatVector.fromArray(FLOATS, evens, x0 + k), a0);
            b0 = odd.fma(FloatVector.fromArray(FLOATS, odds, x0 + k), b0);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, i)));
    }

    /** The halves held in the top 16 bits of each lane, as floats (the low bits are ignored). */
    private static FloatVector widenTopHalves(IntVector top) {
        return top.lanewise(VectorOperators.ASHR, 3).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(REBIAS);
    }

    @Override
    float widen(short bits) {
        return HalfFloats.f16ToFloat(bits);
    }
}
