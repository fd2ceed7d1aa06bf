package io.skipllm.weights;

/**
 * Conversions between 16-bit floats and float32: widening is exact (every F16 and BF16 value is
 * representable in F32), narrowing rounds to nearest even. Written out because
 * {@code Float.float16ToFloat} and {@code floatToFloat16} only arrived in Java 20.
 */
public final class HalfFloats {

    private HalfFloats() {
    }

    /** bfloat16 is the top half of a float32: widening is a shift. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits, bias 15) to binary32 (bias 127):
     * normals re-bias the exponent; subnormals ({@code mantissa * 2^-24}) become float normals;
     * infinities keep their sign and NaNs their payload; -0 stays -0.
     */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13));
    }

    /** float32 to bfloat16, rounding to nearest even; NaN stays NaN (quiet), infinities stay infinite. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /**
     * float32 to IEEE binary16, rounding to nearest even: values beyond the F16 range become infinity,
     * tiny ones F16 subnormals or zero; NaN stays NaN.
     */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int magnitude = bits & 0x7fffffff;
        if (magnitude > 0x7f800000) {
            return (short) (sign | 0x7e00);
        }
        if (magnitude >= 0x477ff000) {          // rounds to >= 65520: infinity
            return (short) (sign | 0x7c00);
        }
        if (magnitude < 0x38800000) {           // below the smallest F16 normal (2^-14): subnormal or zero
            // scale so that the F16 subnormal unit 2^-24 becomes 1, then round to nearest even
            float scaled = Float.intBitsToFloat(magnitude) * 0x1p24f;
            int rounded = (int) Math.rint(scaled);
            return (short) (sign | rounded);
        }
        int exponent = ((magnitude >>> 23) - 127 + 15) << 10;
        int mantissa = magnitude & 0x7fffff;
        int half = exponent | (mantissa >>> 13);
        int rest = mantissa & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
            half++;                             // may carry into the exponent: still correct
        }
        return (short) (sign | half);
    }
}
