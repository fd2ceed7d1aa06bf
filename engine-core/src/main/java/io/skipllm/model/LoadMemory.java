package io.skipllm.model;

import io.skipllm.SkipLlmException;
import io.skipllm.weights.WeightFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The memory a model will hold once loaded, computed from its shapes before anything is read or
 * allocated, and the check that this process can get it. Without the check a model that does not fit
 * grows until the kernel's OOM killer ends the process (exit 137, no message); with it the user gets
 * one error naming needed and available bytes and a format that would fit.
 *
 * <p>"Can get" is the smaller of the machine's available memory ({@code MemAvailable}: free memory plus
 * the page cache the kernel can reclaim) and what the process's cgroup still allows ({@code memory.max}
 * minus usage, page cache of the group counted as reclaimable). Memory-mapped weights count as needed
 * too: a decode step touches every page, so they must stay resident to run at memory speed.
 */
public final class LoadMemory {

    /** Room for the JVM, ND4J's runtime and one request's cache and buffers beside the weights. */
    static final long RUNTIME_RESERVE_BYTES = 1L << 30;

    private LoadMemory() {
    }

    /** Thrown when a model's weights would not fit in the memory this process can get. */
    public static final class ModelTooLargeException extends SkipLlmException {
        private final long neededBytes;
        private final long availableBytes;

        ModelTooLargeException(String message, long needed, long available) {
            super(message);
            this.neededBytes = needed;
            this.availableBytes = available;
        }

        public long neededBytes() {
            return neededBytes;
        }

        public long availableBytes() {
            return availableBytes;
        }
    }

    /**
     * One weight tensor's shape: a matrix (rank 2) takes the chosen format; a vector (norm weights,
     * biases) is always float32.
     */
    public record TensorShape(long rows, long cols, WeightFormat stored) {
        long bytes(WeightFormat chosen) {
            if (rows == 1 || cols == 1) {
                return Math.multiplyExact(rows, cols) * Float.BYTES;
            }
            return (chosen == null ? stored : chosen).bytesFor(rows, cols);
        }
    }

    /** Bytes the tensors take in {@code chosen} (null: as stored). */
    public static long weightBytes(List<TensorShape> tensors, WeightFormat chosen) {
        long total = 0;
        for (TensorShape t : tensors) {
            total = Math.addExact(total, t.bytes(chosen));
        }
        return total;
    }

    /**
     * Refuses a model whose weights in {@code chosen} (null: as stored) plus {@link #RUNTIME_RESERVE_BYTES}
     * exceed {@link #availableBytes()}, naming the smallest format that would fit.
     */
    public static void requireFits(String what, List<TensorShape> tensors, WeightFormat chosen) {
        requireFits(what, tensors, chosen, availableBytes());
    }

    static void requireFits(String what, List<TensorShape> tensors, WeightFormat chosen, long available) {
        long needed = weightBytes(tensors, chosen) + RUNTIME_RESERVE_BYTES;
        if (needed <= available) {
            return;
        }
        String label = chosen == null ? "as stored" : "as " + chosen.label();
        StringBuilder message = new StringBuilder(String.format(Locale.ROOT,
                "%s needs %s of memory with its weights %s (%d bytes, including %s for the runtime), but this "
                        + "process can get %s (%d bytes)", what, gb(needed), label, needed, gb(RUNTIME_RESERVE_BYTES),
                gb(available), available));
        WeightFormat smaller = null;
        for (WeightFormat f : new WeightFormat[] {WeightFormat.BF16, WeightFormat.Q8_0, WeightFormat.Q4_0}) {
            if (weightBytes(tensors, f) + RUNTIME_RESERVE_BYTES <= available && weightBytes(tensors, f) < needed) {
                smaller = f;
                break;
            }
        }
        message.append(smaller == null
                ? "; no weight format makes it fit on this machine"
                : String.format(Locale.ROOT, "; --weights %s needs %s", smaller.label(),
                        gb(weightBytes(tensors, smaller) + RUNTIME_RESERVE_BYTES)));
        throw new ModelTooLargeException(message.toString(), needed, available);
    }

    private static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }

    /**
     * Memory this process can still get: the smaller of the machine's {@code MemAvailable} and the
     * cgroup's remaining allowance (v2 {@code memory.max}, or v1 {@code memory.limit_in_bytes}).
     * Long.MAX_VALUE when neither can be read (not Linux).
     */
    public static long availableBytes() {
        return availableBytes(Path.of("/"));
    }

    /** As {@link #availableBytes()}, reading {@code proc/} and {@code sys/} under {@code root} (tests give a fake tree). */
    static long availableBytes(Path root) {
        long available = Long.MAX_VALUE;
        OptionalLong machine = memInfo(root.resolve("proc/meminfo"), "MemAvailable:");
        if (machine.isPresent()) {
            available = machine.getAsLong();
        }
        OptionalLong group = cgroupRemaining(root.resolve("sys/fs/cgroup"));
        if (group.isPresent()) {
            available = Math.min(available, group.getAsLong());
        }
        return available;
    }

    private static OptionalLong memInfo(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    String[] parts = line.substring(key.length()).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: no bound from here
        }
        return OptionalLong.empty();
    }

    /** The cgroup's limit minus its usage, page cache counted as reclaimable; empty without a limit. */
    private static OptionalLong cgroupRemaining(Path cgroup) {
        OptionalLong limit = number(cgroup.resolve("memory.max"));
        if (limit.isPresent()) {
            long used = number(cgroup.resolve("memory.current")).orElse(0);
            long cache = statValue(cgroup.resolve("memory.stat"), "file ");
            return OptionalLong.of(Math.max(0, limit.getAsLong() - used + cache));
        }
        OptionalLong v1 = number(cgroup.resolve("memory/memory.limit_in_bytes"));
        if (v1.isPresent() && v1.getAsLong() < (1L << 60)) {
            long used = number(cgroup.resolve("memory/memory.usage_in_bytes")).orElse(0);
            long cache = statValue(cgroup.resolve("memory/memory.stat"), "cache ");
            return OptionalLong.of(Math.max(0, v1.getAsLong() - used + cache));
        }
        return OptionalLong.empty();
    }

    /** A file holding one number; empty for "max", a missing file or anything unreadable. */
    private static OptionalLong number(Path file) {
        try {
            String text = Files.readString(file).trim();
            return text.equals("max") ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(text));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    private static long statValue(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // no page-cache figure: count none as reclaimable
        }
        return 0;
    }
}
