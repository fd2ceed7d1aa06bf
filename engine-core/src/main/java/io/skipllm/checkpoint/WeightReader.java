package io.skipllm.checkpoint;

import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one weight matrix of a safetensors file into a {@link Weight}. When the matrix stays in the
 * dtype it is stored in, its bytes are memory-mapped, not copied: loading is near-instant, the page
 * cache is shared by every process that maps the same file, and nothing is allocated on the Java heap
 * or the C heap. Otherwise each row is widened to float32 and converted (narrowed or quantized) into
 * memory the weight owns. Either way every value is checked to be finite.
 */
final class WeightReader {

    private WeightReader() {
    }

    /** The in-memory format a safetensors dtype is kept in when nothing else is asked for. */
    static WeightFormat storedFormat(SafetensorsDtype dtype) {
        return switch (dtype) {
            case F32 -> WeightFormat.F32;
            case BF16 -> WeightFormat.BF16;
            case F16 -> WeightFormat.F16;
            default -> throw new IllegalArgumentException("not a weight dtype: " + dtype);
        };
    }

    /**
     * The {@code rows x cols} matrix at absolute file offset {@code position}, in {@code target} (null:
     * as stored). {@code where} names the tensor in messages.
     */
    static Weight read(FileChannel channel, long position, SafetensorsDtype dtype, int rows, int cols,
            WeightFormat target, String where) throws IOException {
        WeightFormat stored = storedFormat(dtype);
        if (target == null || target == stored) {
            return map(channel, position, stored, rows, cols, where);
        }
        return convert(channel, position, stored, rows, cols, target, where);
    }

    private static Weight map(FileChannel channel, long position, WeightFormat format, int rows, int cols,
            String where) throws IOException {
        long rowBytes = format.rowBytes(cols);
        int rowsPerPart = Weight.rowsPerPart(format, rows, cols);
        List<Weight.Part> parts = new ArrayList<>();
        try {
            for (int first = 0; first < rows; first += rowsPerPart) {
                int count = Math.min(rowsPerPart, rows - first);
                MappedByteBuffer region = channel.map(FileChannel.MapMode.READ_ONLY, position + first * rowBytes,
                        count * rowBytes);
                parts.add(new Weight.Part(region, count, () -> Unmapper.unmap(region)));
                requireFinite(region.duplicate().order(ByteOrder.LITTLE_ENDIAN), format, where);
            }
        } catch (IOException | RuntimeException | Error e) {
            parts.forEach(p -> p.release().run());
            throw e;
        }
        return Weight.ofParts(format, cols, parts);
    }

    private static Weight convert(FileChannel channel, long position, WeightFormat stored, int rows, int cols,
            WeightFormat target, String where) {
        long storedRowBytes = stored.rowBytes(cols);
        int rowsPerRegion = Weight.rowsPerPart(stored, rows, cols);
        // one mapped region at a time, unmapped as soon as its rows are converted: resident memory stays
        // near the converted weights plus one region
        ByteBuffer[] region = new ByteBuffer[1];
        int[] regionFirst = {-1};
        Weight.RowSource source = (row, into) -> {
            if (regionFirst[0] < 0 || row < regionFirst[0] || row >= regionFirst[0] + rowsPerRegion) {
                unmap(region[0]);
                int first = row - row % rowsPerRegion;
                int count = Math.min(rowsPerRegion, rows - first);
                try {
                    region[0] = channel.map(FileChannel.MapMode.READ_ONLY, position + first * storedRowBytes,
                            count * storedRowBytes).order(ByteOrder.LITTLE_ENDIAN);
                } catch (IOException e) {
                    throw new CheckpointException(where + ": cannot read data: " + e.getMessage(), e);
                }
                regionFirst[0] = first;
            }
            stored.decodeRow(region[0], (int) ((row - regionFirst[0]) * storedRowBytes), cols, into, 0);
            for (int i = 0; i < cols; i++) {
                if (!Float.isFinite(into[i])) {
                    throw nonFinite(where);
                }
            }
        };
        try {
            return Weight.convert(source, rows, cols, target);
        } finally {
            unmap(region[0]);
        }
    }

    private static void unmap(ByteBuffer region) {
        if (region instanceof MappedByteBuffer mapped) {
            Unmapper.unmap(mapped);
        }
    }

    /**
     * Scans the stored bits for an all-ones exponent (infinity or NaN), four 16-bit or two 32-bit
     * values per long: fast enough to run over a 13 GB checkpoint at load.
     */
    static void requireFinite(ByteBuffer data, WeightFormat format, String where) {
        long mask = switch (format) {
            case BF16 -> 0x7f807f807f807f80L;
            case F16 -> 0x7c007c007c007c00L;
            case F32 -> 0x7f8000007f800000L;
            default -> throw new IllegalArgumentException(format.toString());
        };
        int laneBits = format == WeightFormat.F32 ? 32 : 16;
        long laneMask = laneBits == 32 ? 0xffffffffL : 0xffffL;
        int n = data.capacity();
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            long v = data.getLong(i) & mask;
            if (v != 0 && hasFullLane(v, mask, laneBits, laneMask)) {
                throw nonFinite(where);
            }
        }
        if (i < n) {
            byte[] tail = new byte[8];
            data.get(i, tail, 0, n - i);
            long v = ByteBuffer.wrap(tail).order(ByteOrder.LITTLE_ENDIAN).getLong() & mask;
            if (hasFullLane(v, mask, laneBits, laneMask)) {
                throw nonFinite(where);
            }
        }
    }

    private static boolean hasFullLane(long masked, long mask, int laneBits, long laneMask) {
        for (int shift = 0; shift < 64; shift += laneBits) {
            long lane = (masked >>> shift) & laneMask;
            if (lane != 0 && lane == ((mask >>> shift) & laneMask)) {
                return true;
            }
        }
        return false;
    }

    private static CheckpointException nonFinite(String where) {
        return new CheckpointException(where + " has NaN or infinite values; weights must be finite");
    }
}
