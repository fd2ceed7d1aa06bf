package io.skipllm.checkpoint;

import java.util.Optional;

/**
 * The tensor types a GGUF file may declare (ggml's {@code ggml_type} ids), each with its block: how many
 * weights a block holds and how many bytes it takes. Every id ggml defines is listed, so that a file's
 * byte ranges can be checked whatever it holds; {@link #loadable} says which the engine can run.
 */
enum GgufType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, false),
    Q5_0(6, 32, 22, false),
    Q5_1(7, 32, 24, false),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false);

    final int id;
    final int blockWeights;
    final int blockBytes;
    /** Whether tensors of this type can be loaded (kept as stored, repacked or converted at load). */
    final boolean loadable;

    GgufType(int id, int blockWeights, int blockBytes, boolean loadable) {
        this.id = id;
        this.blockWeights = blockWeights;
        this.blockBytes = blockBytes;
        this.loadable = loadable;
    }

    static Optional<GgufType> byId(long id) {
        for (GgufType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** Bytes one row of {@code cols} weights takes; {@code cols} must be a multiple of the block. */
    long rowBytes(long cols) {
        return Math.multiplyExact(cols / blockWeights, (long) blockBytes);
    }

    /** "F32, F16, BF16, Q8_0, ..." for messages. */
    static String loadableNames() {
        StringBuilder sb = new StringBuilder();
        for (GgufType t : values()) {
            if (t.loadable) {
                sb.append(sb.length() == 0 ? "" : ", ").append(t.name());
            }
        }
        return sb.toString();
    }
}
