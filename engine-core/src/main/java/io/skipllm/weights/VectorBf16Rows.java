package io.skipllm.weights;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** BF16 weights: a bfloat16 is the top half of a float32, so widening an int's halves is a shift and a mask. */
final class VectorBf16Rows extends VectorHalfRows {

    private static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);

    VectorBf16Rows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
    }

    @Override
    void twoRowsFourInputs(ByteBuffer data, int rowAt, int nextRowAt, int i, int outRow) {
        int x0 = i * pairs;
        int x1 = x0 + pairs;
        int x2 = x1 + pairs;
        int x3 = x2 + pairs;
        // aK, bK: the first row's even and odd sums for input i + K; cK, dK: the second row's.
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        FloatVector a1 = a0;
        FloatVector b1 = a0;
        FloatVector a2 = a0;
        FloatVector b2 = a0;
        FloatVector a3 = a0;
        FloatVector b3 = a0;
        FloatVector c0 = a0;
        FloatVector d0 = a0;
        FloatVector c1 = a0;
        FloatVector d1 = a0;
        FloatVector c2 = a0;
        FloatVector d2 = a0;
        FloatVector c3 = a0;
        FloatVector d3 = a0;
        for (int k = 0; k < vectorPairs; k += LANES) {
            IntVector two = IntVector.fromByteBuffer(INTS, data, rowAt + 4 * k, LE);
            FloatVector even = two.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector odd = two.and(0xFFFF0000).reinterpretAsFloats();
            IntVector nextTwo = IntVector.fromByteBuffer(INTS, data, nextRowAt + 4 * k, LE);
            FloatVector nextEven = nextTwo.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector nextOdd = nextTwo.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector in = FloatVector.fromArray(FLOATS, evens, x0 + k);
            a0 = even.fma(in, a0);
            c0 = nextEven.fma(in, c0);
            in = FloatVector.fromArray(FLOATS, odds, x0 + k);
            b0 = odd.fma(in, b0);
            d0 = nextOdd.fma(in, d0);
            in = FloatVector.fromArray(FLOATS, evens, x1 + k);
            a1 = even.fma(in, a1);
            c1 = nextEven.fma(in, c1);
            in = FloatVector.fromArray(FLOATS, odds, x1 + k);
            b1 = odd.fma(in, b1);
            d1 = nextOdd.fma(in, d1);
            in = FloatVector.fromArray(FLOATS, evens, x2 + k);
            a2 = even.fma(in, a2);
            c2 = nextEven.fma(in, c2);
            in = FloatVector.fromArray(FLOATS, odds, x2 + k);
            b2 = odd.fma(in, b2);
            d2 = nextOdd.fma(in, d2);
            in = FloatVector.fromArray(FLOATS, evens, x3 + k);
            a3 = even.fma(in, a3);
            c3 = nextEven.fma(in, c3);
            in = FloatVector.fromArray(FLOATS, odds, x3 + k);
            b3 = odd.fma(in, b3);
            d3 = nextOdd.fma(in, d3);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, i)));
        store(i + 1, outRow, total(a1, b1, tail(data, rowAt, i + 1)));
        store(i + 2, outRow, total(a2, b2, tail(data, rowAt, i + 2)));
        store(i + 3, outRow, total(a3, b3, tail(data, rowAt, i + 3)));
        store(i, outRow + 1, total(c0, d0, tail(data, nextRowAt, i)));
        store(i + 1, outRow + 1, total(c1, d1, tail(data, nextRowAt, i + 1)));
        store(i + 2, outRow + 1, total(c2, d2, tail(data, nextRowAt, i + 2)));
        store(i + 3, outRow + 1, total(c3, d3, tail(data, nextRowAt, i + 3)));
    }

    @Override
    void oneInput(ByteBuffer data, int rowAt, int i, int outRow) {
        int x0 = i * pairs;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        for (int k = 0; k < vectorPairs; k += LANES) {
            IntVector two = IntVector.fromByteBuffer(INTS, data, rowAt + 4 * k, LE);
            FloatVector even = two.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector odd = two.and(0xFFFF0000).reinterpretAsFloats();
            a0 = even.fma(FloatVector.fromArray(FLOATS, evens, x0 + k), a0);
            b0 = odd.fma(FloatVector.fromArray(FLOATS, odds, x0 + k), b0);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, i)));
    }

    @Override
    float widen(short bits) {
        return HalfFloats.bf16ToFloat(bits);
    }
}
