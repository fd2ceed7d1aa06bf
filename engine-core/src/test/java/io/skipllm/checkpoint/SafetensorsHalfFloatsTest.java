package io.skipllm.checkpoint;

import io.skipllm.weights.HalfFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Every one of the 65536 F16 bit patterns against an independent float64 evaluation of the IEEE 754
 * binary16 definition, and BF16 against its definition as the top half of a float32.
 */
class SafetensorsHalfFloatsTest {

    @Test
    void everyF16BitPatternWidensToItsExactValue() {
        for (int bits = 0; bits < 0x10000; bits++) {
            int sign = bits >>> 15;
            int exponent = (bits >>> 10) & 0x1f;
            int mantissa = bits & 0x3ff;
            float actual = HalfFloats.f16ToFloat((short) bits);
            if (exponent == 0x1f && mantissa != 0) {
                assertTrue(Float.isNaN(actual), "NaN pattern " + Integer.toHexString(bits));
                continue;
            }
            double magnitude = exponent == 0x1f ? Double.POSITIVE_INFINITY
                    : exponent == 0 ? Math.scalb((double) mantissa, -24)
                    : Math.scalb(1.0 + mantissa / 1024.0, exponent - 15);
            float expected = (float) (sign == 1 ? -magnitude : magnitude);
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                    "bits " + Integer.toHexString(bits));
        }
    }

    @Test
    void bf16IsTheTopHalfOfAFloat32() {
        for (float v : new float[] {1f, -2.5f, 0f, -0f, 3.140625f, Float.POSITIVE_INFINITY, 0x1p-133f}) {
            short top = (short) (Float.floatToRawIntBits(v) >>> 16);
            assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits(HalfFloats.bf16ToFloat(top)));
        }
    }
}
