package io.skipllm.checkpoint;

import io.skipllm.weights.HalfFloats;
import java.nio.ByteBuffer;

/**
 * Decodes one row of a GGUF tensor to float32, for every type {@link GgufType#loadable} names, following
 * the block layouts of ggml ({@code ggml-common.h}): what a value is, not how llama.cpp computes with it.
 * Used where a tensor is converted at load (the K-quants, Q4_0 before a kernel takes it, any type into
 * another {@code --weights} format) and for norms.
 *
 * <ul>
 *   <li>Q8_0, 34 bytes per 32 weights: f16 scale d, 32 int8 q; w = d * q.</li>
 *   <li>Q4_0, 18 bytes per 32: f16 d, 16 bytes whose byte j holds weight j (low nibble) and weight j + 16
 *       (high nibble); w = d * (nibble - 8).</li>
 *   <li>Q4_K, 144 bytes per 256: f16 d, f16 dmin, 12 bytes of eight 6-bit scales and eight 6-bit mins,
 *       128 bytes of nibbles. Sub-block s (32 weights) has w = d * scale_s * q - dmin * min_s; the 64
 *       weights of sub-blocks 2k and 2k + 1 share 32 bytes, low nibbles first.</li>
 *   <li>Q5_K, 176 bytes per 256: as Q4_K plus 32 bytes of fifth bits (qh) before the nibbles: bit 2k of
 *       qh[l] belongs to weight l of sub-block 2k, bit 2k + 1 to weight l of sub-block 2k + 1.</li>
 *   <li>Q6_K, 210 bytes per 256: 128 bytes of low nibbles (ql), 64 bytes of high 2-bit pairs (qh), 16 int8
 *       scales, f16 d; w = d * scale * (q - 32), one scale per 16 weights.</li>
 * </ul>
 */
final class GgufDecoding {

    private GgufDecoding() {
    }

    /** Decodes {@code cols} weights of {@code type} at byte {@code at} of {@code data} into {@code into[0, cols)}. */
    static void decodeRow(GgufType type, ByteBuffer data, int at, int cols, float[] into) {
        switch (type) {
            case F32 -> {
                for (int i = 0; i < cols; i++) {
                    into[i] = data.getFloat(at + 4 * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    into[i] = HalfFloats.f16ToFloat(data.getShort(at + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < cols; i++) {
                    into[i] = HalfFloats.bf16ToFloat(data.getShort(at + 2 * i));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < cols / 32; b++) {
                    int p = at + b * 34;
                    float d = HalfFloats.f16ToFloat(data.getShort(p));
                    for (int j = 0; j < 32; j++) {
                        into[b * 32 + j] = d * data.get(p + 2 + j);
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < cols / 32; b++) {
                    int p = at + b * 18;
                    float d = HalfFloats.f16ToFloat(data.getShort(p));
                    for (int j = 0; j < 16; j++) {
                        int q = data.get(p + 2 + j) & 0xff;
                        into[b * 32 + j] = d * ((q & 0xf) - 8);
                        into[b * 32 + j + 16] = d * ((q >>> 4) - 8);
                    }
                }
            }
            case Q4_K -> {
                for (int b = 0; b < cols / 256; b++) {
                    kQuant(data, at + b * 144, false, into, b * 256);
                }
            }
            case Q5_K -> {
                for (int b = 0; b < cols / 256; b++) {
                    kQuant(data, at + b * 176, true, into, b * 256);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < cols / 256; b++) {
                    q6k(data, at + b * 210, into, b * 256);
                }
            }
            default -> throw new IllegalArgumentException("no decoder for " + type);
        }
    }

    /** One Q4_K (or, with {@code fifthBit}, Q5_K) super-block of 256 weights. */
    private static void kQuant(ByteBuffer data, int p, boolean fifthBit, float[] out, int o) {
        float d = HalfFloats.f16ToFloat(data.getShort(p));
        float dmin = HalfFloats.f16ToFloat(data.getShort(p + 2));
        int scales = p + 4;
        int qh = p + 16;
        int qs = fifthBit ? p + 48 : p + 16;
        for (int pair = 0; pair < 4; pair++) {
            for (int half = 0; half < 2; half++) {
                int sub = 2 * pair + half;
                float scale = d * scale6(data, scales, sub);
                float min = dmin * min6(data, scales, sub);
                for (int l = 0; l < 32; l++) {
                    int byteValue = data.get(qs + 32 * pair + l) & 0xff;
                    int q = half == 0 ? byteValue & 0xf : byteValue >>> 4;
                    if (fifthBit && ((data.get(qh + l) >>> sub) & 1) != 0) {
                        q += 16;
                    }
                    out[o + 32 * sub + l] = scale * q - min;
                }
            }
        }
    }

    /**
     * The 6-bit scale of sub-block {@code j}: for j < 4 the low 6 bits of byte j; above, the low nibble
     * of byte j + 4 with the top two bits of byte j - 4 as bits 4 and 5.
     */
    private static int scale6(ByteBuffer data, int s, int j) {
        if (j < 4) {
            return data.get(s + j) & 63;
        }
        return (data.get(s + j + 4) & 0xf) | (((data.get(s + j - 4) & 0xff) >>> 6) << 4);
    }

    /** The 6-bit min of sub-block {@code j}: byte j + 4's low 6 bits, or its high nibble with byte j's top bits. */
    private static int min6(ByteBuffer data, int s, int j) {
        if (j < 4) {
            return data.get(s + j + 4) & 63;
        }
        return ((data.get(s + j + 4) & 0xff) >>> 4) | (((data.get(s + j) & 0xff) >>> 6) << 4);
    }

    /** One Q6_K super-block: two halves of 128 weights, each from 64 ql bytes, 32 qh bytes and 8 scales. */
    private static void q6k(ByteBuffer data, int p, float[] out, int o) {
        float d = HalfFloats.f16ToFloat(data.getShort(p + 208));
        for (int half = 0; half < 2; half++) {
            int ql = p + 64 * half;
            int qh = p + 128 + 32 * half;
            int sc = p + 192 + 8 * half;
            int base = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int h = data.get(qh + l) & 0xff;
                int lo0 = data.get(ql + l) & 0xff;
                int lo1 = data.get(ql + l + 32) & 0xff;
                int s = l / 16;
                out[base + l] = d * data.get(sc + s) * (((lo0 & 0xf) | ((h & 3) << 4)) - 32);
                out[base + l + 32] = d * data.get(sc + s + 2) * (((lo1 & 0xf) | (((h >>> 2) & 3) << 4)) - 32);
                out[base + l + 64] = d * data.get(sc + s + 4) * (((lo0 >>> 4) | (((h >>> 4) & 3) << 4)) - 32);
                out[base + l + 96] = d * data.get(sc + s + 6) * (((lo1 >>> 4) | (((h >>> 6) & 3) << 4)) - 32);
            }
        }
    }
}
