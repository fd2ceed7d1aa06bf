package io.skipllm.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EncodingTest {

    @Test
    void everyFinite16BitValueSurvivesARoundTrip() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            short h = (short) bits;
            float bf16 = HalfFloats.bf16ToFloat(h);
            if (!Float.isNaN(bf16)) {
                assertEquals(h, HalfFloats.floatToBf16(bf16), "bf16 " + Integer.toHexString(bits));
            }
            float f16 = HalfFloats.f16ToFloat(h);
            if (!Float.isNaN(f16)) {
                assertEquals(h, HalfFloats.floatToF16(f16), "f16 " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void narrowingRoundsToNearestEven() {
        // bf16 keeps 7 mantissa bits: 1 + 2^-8 is halfway between 1 and 1 + 2^-7, and goes to the even 1
        assertEquals((short) 0x3f80, HalfFloats.floatToBf16(1 + 0x1p-8f));
        assertEquals((short) 0x3f82, HalfFloats.floatToBf16(1 + 3 * 0x1p-8f));
        assertEquals((short) 0x3f81, HalfFloats.floatToBf16(1 + 0x1p-8f + 0x1p-20f));
        // f16 keeps 10: 1 + 2^-11 goes down to 1, 1 + 3 * 2^-11 up to 1 + 2^-9
        assertEquals((short) 0x3c00, HalfFloats.floatToF16(1 + 0x1p-11f));
        assertEquals((short) 0x3c02, HalfFloats.floatToF16(1 + 3 * 0x1p-11f));
        assertEquals((short) 0x7bff, HalfFloats.floatToF16(65504f));
        assertEquals((short) 0x7c00, HalfFloats.floatToF16(65520f));
        // subnormals: 2^-24 is the smallest; half of it is a tie that goes to zero
        assertEquals((short) 0x0001, HalfFloats.floatToF16(0x1p-24f));
        assertEquals((short) 0x0000, HalfFloats.floatToF16(0x1p-25f));
        assertEquals((short) 0x0002, HalfFloats.floatToF16(3 * 0x1p-25f));
        assertEquals((short) 0x8001, HalfFloats.floatToF16(-0x1p-24f));
    }

    @Test
    void q8ErrorIsAtMostHalfAStep() {
        Random random = new Random(21);
        for (int cols : new int[] {1, 31, 32, 33, 100}) {
            float[] values = MatMulTest.values(random, cols);
            long rowBytes = WeightFormat.Q8_0.rowBytes(cols);
            ByteBuffer data = ByteBuffer.allocate((int) rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            Encoding.encodeRow(WeightFormat.Q8_0, values, cols, data, 0);
            float[] decoded = new float[cols];
            Encoding.decodeRow(WeightFormat.Q8_0, data, 0, cols, decoded, 0);
            for (int c = 0; c < cols; c++) {
                float scale = data.getFloat((c / WeightFormat.Q8_BLOCK) * (4 + WeightFormat.Q8_BLOCK));
                assertTrue(Math.abs(values[c] - decoded[c]) <= scale / 2 * (1 + 1e-5f),
                        cols + " cols, weight " + c + ": " + values[c] + " became " + decoded[c]);
            }
            for (int c = cols; c % WeightFormat.Q8_BLOCK != 0; c++) {
                assertEquals(0, data.get((c / 32) * 36 + 4 + c % 32), "padding");
            }
        }
    }

    /** A block of the 16 integers -8..7 (twice) times 0.5: scale 0.5 exactly and nibbles 0..15 in llama.cpp's order. */
    @Test
    void q4BlockHasLlamaCppsLayout() {
        float[] values = new float[32];
        for (int i = 0; i < 32; i++) {
            values[i] = ((i % 16) - 8) * 0.5f;
        }
        values[20] = 3.5f; // weight 16 + 4: the high nibble of byte 4
        ByteBuffer data = ByteBuffer.allocate(WeightFormat.Q4_BLOCK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        Encoding.encodeRow(WeightFormat.Q4_0, values, 32, data, 0);
        assertEquals(HalfFloats.floatToF16(0.5f), data.getShort(0), "scale: the extreme -4 over -8");
        for (int j = 0; j < 16; j++) {
            int high = j == 4 ? 15 : j;
            assertEquals(j | high << 4, data.get(2 + j) & 0xFF, "byte " + j);
        }
        float[] decoded = new float[32];
        Encoding.decodeRow(WeightFormat.Q4_0, data, 0, 32, decoded, 0);
        assertArrayEquals(values, decoded, 0f);
    }

    @Test
    void q4ErrorIsAtMostHalfAStep() {
        Random random = new Random(22);
        for (int cols : new int[] {1, 31, 32, 33, 100}) {
            float[] values = MatMulTest.values(random, cols);
            long rowBytes = WeightFormat.Q4_0.rowBytes(cols);
            ByteBuffer data = ByteBuffer.allocate((int) rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            Encoding.encodeRow(WeightFormat.Q4_0, values, cols, data, 0);
            float[] decoded = new float[cols];
            Encoding.decodeRow(WeightFormat.Q4_0, data, 0, cols, decoded, 0);
            for (int c = 0; c < cols; c++) {
                float scale = Math.abs(HalfFloats.f16ToFloat(data.getShort(2 * (c / WeightFormat.Q4_BLOCK))));
                // Half a step, plus what rounding the scale to F16 moves the largest integers: 8 times half
                // an F16 step (2^-11 relative, at least 2^-25 where the scale is subnormal).
                float scaleRounding = Math.max(scale * 0x1p-11f, 0x1p-25f);
                assertTrue(Math.abs(values[c] - decoded[c]) <= (scale / 2 + 8 * scaleRounding) * (1 + 1e-5f),
                        cols + " cols, weight " + c + ": " + values[c] + " became " + decoded[c]);
            }
            int blocks = (cols + 31) / 32;
            for (int c = cols; c % WeightFormat.Q4_BLOCK != 0; c++) {
                int packed = data.get(2 * blocks + 16 * (c / 32) + c % 16) & 0xFF;
                assertEquals(8, c % 32 < 16 ? packed & 0xF : packed >>> 4, "padding is weight 0");
            }
        }
    }

    /** A row in GGUF's layout (scale, nibbles, scale, ...) repacked to the engine's (scales, then nibbles). */
    @Test
    void ggufQ4RowsRepackToTheSameWeights() {
        Random random = new Random(23);
        int cols = 100;
        int blocks = 4;
        float[] values = MatMulTest.values(random, cols);
        ByteBuffer ours = ByteBuffer.allocate(blocks * 18).order(ByteOrder.LITTLE_ENDIAN);
        Encoding.encodeRow(WeightFormat.Q4_0, values, cols, ours, 0);
        ByteBuffer gguf = ByteBuffer.allocate(blocks * 18).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < blocks; b++) {
            gguf.putShort(b * 18, ours.getShort(2 * b));
            for (int j = 0; j < 16; j++) {
                gguf.put(b * 18 + 2 + j, ours.get(2 * blocks + 16 * b + j));
            }
        }
        ByteBuffer repacked = ByteBuffer.allocate(blocks * 18).order(ByteOrder.LITTLE_ENDIAN);
        WeightFormat.repackGgufQ4Row(gguf, 0, repacked, 0, cols);
        assertEquals(ours, repacked);
    }
}
