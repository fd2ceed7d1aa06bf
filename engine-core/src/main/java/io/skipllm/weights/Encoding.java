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
            default -> throw new IllegalArgumentException(format.toString());
        }
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
            default -> throw new IllegalArgumentException(format.toString());
        }
    }
}
