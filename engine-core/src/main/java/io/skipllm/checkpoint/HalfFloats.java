package io.skipllm.checkpoint;

/**
 * Widening of 16-bit floats to float32, exactly (every F16 and BF16 value is representable in F32).
 * Written out because {@code Float.float16ToFloat} only arrived in Java 20.
 */
final class HalfFloats {

    private HalfFloats() {
    }

    /** bfloat16 is the top half of a float32: widening is a shift. */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits, bias 15) to binary32 (bias 127):
     * normals re-bias the exponent; subnormals ({@code mantissa * 2^-24}) become float normals;
     * infinities keep their sign and NaNs their payload; -0 stays -0.
     */
    static float f16ToFloat(short bits) {
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
}
