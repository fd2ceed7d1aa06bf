package io.skipllm.weights;

import io.skipllm.BadInputException;
import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * How a weight matrix is held in memory. Each row is stored on its own (rows never share a block), in
 * Hugging Face's {@code [out, in]} layout, little-endian:
 *
 * <ul>
 *   <li>{@link #F32}: 4 bytes per weight.</li>
 *   <li>{@link #BF16}: the top 16 bits of the float32 (2 bytes).</li>
 *   <li>{@link #F16}: IEEE binary16 (2 bytes).</li>
 *   <li>{@link #Q8_0}: llama.cpp's 8-bit block format: each row is cut into blocks of 32 weights; a
 *       block is a float32 scale {@code d = max|w| / 127} followed by 32 signed bytes
 *       {@code q = round(w / d)}, and the weight is {@code q * d}. The last block of a row is padded
 *       with zeros when the row length is not a multiple of 32. (llama.cpp stores the scale as F16:
 *       34 bytes a block; a float32 scale, 36 bytes, costs 6% more bytes and one conversion less.)</li>
 *   <li>{@link #Q4_0}: llama.cpp's 4-bit block format: each block of 32 weights has an F16 scale
 *       {@code d} and 16 bytes; byte {@code j} holds weight {@code j} in its low nibble and weight
 *       {@code j + 16} in its high nibble, and the weight is {@code (nibble - 8) * d} (18 bytes a block,
 *       4.5 bits a weight). The scale is the block's value of largest magnitude divided by -8, as
 *       llama.cpp's quantizer does, so a row quantized here equals llama-quantize's. Within a row the
 *       blocks' scales come first ({@code 2 * blocks} bytes), then their nibbles ({@code 16 * blocks}):
 *       the kernels load four blocks' nibbles and scales with one load each. GGUF interleaves them
 *       (scale, nibbles, scale, ...); {@link #repackGgufQ4Row} turns such a row into this one.</li>
 * </ul>
 */
public enum WeightFormat {
    F32(4, 1),
    BF16(2, 1),
    F16(2, 1),
    Q8_0(4 + 32, 32),
    Q4_0(2 + 16, 32);

    /** Weights per Q8_0 block. */
    public static final int Q8_BLOCK = 32;
    /** Weights per Q4_0 block. */
    public static final int Q4_BLOCK = 32;
    /** Bytes per Q4_0 block: the F16 scale, then 16 bytes of nibbles. */
    public static final int Q4_BLOCK_BYTES = 18;

    private final int blockBytes;
    private final int blockWeights;

    WeightFormat(int blockBytes, int blockWeights) {
        this.blockBytes = blockBytes;
        this.blockWeights = blockWeights;
    }

    /**
     * Rearranges one row of {@code cols} weights from GGUF's Q4_0 layout (18-byte blocks, scale then
     * nibbles) at {@code src[srcAt ..]} into this format's row layout at {@code dst[dstAt ..]}: the same
     * bytes, scales first. Exact; the row size is the same.
     */
    public static void repackGgufQ4Row(ByteBuffer src, int srcAt, ByteBuffer dst, int dstAt, int cols) {
        int blocks = (cols + Q4_BLOCK - 1) / Q4_BLOCK;
        for (int b = 0; b < blocks; b++) {
            int block = srcAt + b * Q4_BLOCK_BYTES;
            dst.put(dstAt + 2 * b, src.get(block));
            dst.put(dstAt + 2 * b + 1, src.get(block + 1));
            for (int j = 0; j < 16; j++) {
                dst.put(dstAt + 2 * blocks + 16 * b + j, src.get(block + 2 + j));
            }
        }
    }

    /** Whether the format quantizes weights in blocks (Q8_0, Q4_0) rather than rounding each one. */
    public boolean quantized() {
        return blockWeights > 1;
    }

    /** Bytes one row of {@code cols} weights takes. */
    public long rowBytes(long cols) {
        return Math.multiplyExact((cols + blockWeights - 1) / blockWeights, (long) blockBytes);
    }

    /** Bytes a {@code rows x cols} matrix takes. */
    public long bytesFor(long rows, long cols) {
        return Math.multiplyExact(rows, rowBytes(cols));
    }

    /**
     * Decodes one row of {@code cols} weights stored in this format at byte {@code at} of {@code data}
     * into {@code into[offset, offset + cols)} as float32 (exact for the float formats).
     */
    public void decodeRow(ByteBuffer data, int at, int cols, float[] into, int offset) {
        Encoding.decodeRow(this, data, at, cols, into, offset);
    }

    /** The name used on the command line and in JSON: {@code f32}, {@code bf16}, {@code f16}, {@code q8_0}, {@code q4_0}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a label (case-insensitive); an unknown one is a {@link BadInputException} listing the choices. */
    public static WeightFormat parse(String label) {
        for (WeightFormat f : values()) {
            if (f.label().equalsIgnoreCase(label == null ? "" : label.trim())) {
                return f;
            }
        }
        throw new BadInputException("unknown weight format '" + label + "'; expected f32, bf16, f16, q8_0 or q4_0");
    }
}
