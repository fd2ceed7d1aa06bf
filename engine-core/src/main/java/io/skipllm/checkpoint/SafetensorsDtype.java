package io.skipllm.checkpoint;

import java.util.Optional;

/**
 * Element types a safetensors header may declare, with their sizes, so every entry's byte length can
 * be checked against its shape. Only {@link #F32}, {@link #F16} and {@link #BF16} can be loaded as
 * weights; the others (e.g. {@code I64} position ids, {@code BOOL} masks) may sit in the same file and
 * are validated but never read.
 */
enum SafetensorsDtype {
    BOOL(1, false), U8(1, false), I8(1, false), F8_E4M3(1, false), F8_E5M2(1, false),
    U16(2, false), I16(2, false), F16(2, true), BF16(2, true),
    U32(4, false), I32(4, false), F32(4, true),
    U64(8, false), I64(8, false), F64(8, false);

    final int bytes;
    final boolean loadable;

    SafetensorsDtype(int bytes, boolean loadable) {
        this.bytes = bytes;
        this.loadable = loadable;
    }

    /** The dtype named in a header, or empty when the name is not one this reader knows. */
    static Optional<SafetensorsDtype> byName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
