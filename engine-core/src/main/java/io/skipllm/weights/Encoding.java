package io.skipllm.weights;

import java.nio.ByteBuffer;

/**
 * Row encoders and decoders of each {@link WeightFormat}: the definition of the formats, used when
 * weights are converted at load and as the plain reference the kernels are tested against.
 */
final class Encoding {

    private Encoding() {
    }

    /** Encodes {@code values[0, cols)} into {@code data} at byte {@code at} (one row of the format). */
    static void encodeRow(WeightFormat format, float[] values, int cols, ByteBuffer data, int at) {
        switch (format) {
            case F32 -> {
                for (int i = 0; i < cols; i++) {
                    data.putFloat(at + 4 * i, values[i]);
                }
            }
            case BF16 -> {
                for (int i = 0; i < cols; i++) {
                    data.putShort(at + 2 * i, HalfFloats.floatToBf16(values[i]));
                }
            }
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    data.putShort(at + 2 * i, HalfFloats.floatToF16(values[i]));
                }
            }
            case Q8_0 -> {
                int blocks = (cols + WeightFormat.Q8_BLOCK - 1) / WeightFormat.Q8_BLOCK;
                for (int b = 0; b < blocks; b++) {
                    int first = b * WeightFormat.Q8_BLOCK;
                    int last = Math.min(cols, first + WeightFormat.Q8_BLOCK);
                    float max = 0;
                    for (int i = first; i < last; i++) {
                        max = Math.max(max, Math.abs(values[i]));
                    }
                    float scale = max / 127f;
                    float inverse = scale == 0 ? 0 : 1f / scale;
                    int blockAt = at + b * (4 + WeightFormat.Q8_BLOCK);
                    data.putFloat(blockAt, scale);
                    for (int i = first; i < last; i++) {
                        data.put(blockAt + 4 + (i - first), (byte) Math.round(values[i] * inverse));
                    }
                }
            }
            case Q4_0 -> {
                int blocks = (cols + WeightFormat.Q4_BLOCK - 1) / WeightFormat.Q4_BLOCK;
                for (int b = 0; b < blocks; b++) {
                    int first = b * WeightFormat.Q4_BLOCK;
                    // The signed value of largest magnitude becomes -8 exactly (llama.cpp's rounding, so a
                    // row quantized here equals llama-quantize's).
                    float extreme = 0;
                    for (int i = first; i < Math.min(cols, first + WeightFormat.Q4_BLOCK); i++) {
                        if (Math.abs(values[i]) > Math.abs(extreme)) {
                            extreme = values[i];
                        }
                    }
                    float scale = extreme / -8f;
                    float inverse = scale == 0 ? 0 : 1f / scale;
                    data.putShort(at + 2 * b, HalfFloats.floatToF16(scale));
                    int nibblesAt = at + 2 * blocks + 16 * b;
                    for (int j = 0; j < 16; j++) {
                        int low = nibble(values, first + j, cols, inverse);
                        int high = nibble(values, first + j + 16, cols, inverse);
                        data.put(nibblesAt + j, (byte) (low | high << 4));
                    }
                }
            }
            default -> throw new IllegalArgumentException(format.toString());
        }
    }

    /** Weight {@code i} (zero past the row's end) as a Q4_0 nibble: {@code round(w / d) + 8} clamped to 0..15. */
    private static int nibble(float[] values, int i, int cols, float inverse) {
        float w = i < cols ? values[i] : 0f;
        return Math.min(15, (int) (w * inverse + 8.5f));
    }

    /** Decodes one row of {@code cols} weights at byte {@code at} into {@code into[offset ..]}. */
    static void decodeRow(WeightFormat format, ByteBuffer data, int at, int cols, float[] into, int offset) {
        switch (format) {
            case F32 -> {
                for (int i = 0; i < cols; i++) {
                    into[offset + i] = data.getFloat(at + 4 * i);
                }
            }
            case BF16 -> {
                for (int i = 0; i < cols; i++) {
                    into[offset + i] = HalfFloats.bf16ToFloat(data.getShort(at + 2 * i));
                }
            }
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    into[offset + i] = HalfFloats.f16ToFloat(data.getShort(at + 2 * i));
                }
            }
            case Q8_0 -> {
                for (int i = 0; i < cols; i++) {
                    int b = i / WeightFormat.Q8_BLOCK;
                    int blockAt = at + b * (4 + WeightFormat.Q8_BLOCK);
                    into[offset + i] = data.getFloat(blockAt) * data.get(blockAt + 4 + i % WeightFormat.Q8_BLOCK);
                }
            }
            case Q4_0 -> {
                int blocks = (cols + WeightFormat.Q4_BLOCK - 1) / WeightFormat.Q4_BLOCK;
                for (int i = 0; i < cols; i++) {
                    int b = i / WeightFormat.Q4_BLOCK;
                    int j = i % WeightFormat.Q4_BLOCK;
                    int packed = data.get(at + 2 * blocks + 16 * b + j % 16) & 0xFF;
                    int q = (j < 16 ? packed & 0xF : packed >>> 4) - 8;
                    into[offset + i] = HalfFloats.f16ToFloat(data.getShort(at + 2 * b)) * q;
                }
            }
            default -> throw new IllegalArgumentException(format.toString());
        }
    }
}
