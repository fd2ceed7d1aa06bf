package io.skipllm.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntUnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One weight matrix {@code [rows, cols]} (Hugging Face's {@code [out, in]} layout) in a
 * {@link WeightFormat}, held as one or more row blocks ("parts") of off-heap memory: a part is either a
 * region of a memory-mapped safetensors file (weights kept in the dtype they are stored in) or a buffer
 * this class allocated (converted or quantized weights). Parts let fused projections (q/k/v, gate/up)
 * stay zero-copy views of separately stored tensors, and keep every buffer under Java's 2 GiB limit.
 *
 * <p>The architecture classes never look inside: they call {@link #matmul} (through
 * {@code model.layers.Linear}) and {@link #row} (embedding lookup). On the ND4J backends that do not
 * run host kernels (CUDA), a weight is instead a float32 {@link INDArray} ({@link #ofArray}).
 *
 * <p>Immutable after construction and safe to share between threads; {@link #close} frees what it owns.
 */
public final class Weight implements AutoCloseable {

    /** Largest part a conversion allocates: a multiple of every row size is taken below it. */
    static final long MAX_PART_BYTES = 1L << 30;

    private final WeightFormat format;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    private final Part[] parts;
    /** First row of each part, ascending, for {@link #row} lookups. */
    private final int[] partStarts;
    private final INDArray array;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * A block of consecutive rows.
     *
     * @param data little-endian bytes of exactly {@code rows * format.rowBytes(cols)}, position 0
     * @param rows how many rows
     * @param release frees the memory (unmaps a file region, frees an allocation); null when another
     *     owner frees it
     */
    public record Part(ByteBuffer data, int rows, Runnable release) {
    }

    private Weight(WeightFormat format, int rows, int cols, Part[] parts, INDArray array) {
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = format.rowBytes(cols);
        this.parts = parts;
        this.array = array;
        this.partStarts = new int[parts.length];
        int start = 0;
        for (int i = 0; i < parts.length; i++) {
            partStarts[i] = start;
            start += parts[i].rows();
        }
    }

    /**
     * A weight over existing parts in {@code format} (for example regions of a mapped file). Every
     * part's buffer must hold exactly its rows; ownership of the parts passes to the weight.
     */
    public static Weight ofParts(WeightFormat format, int cols, List<Part> parts) {
        if (cols <= 0 || parts.isEmpty()) {
            throw new IllegalArgumentException("a weight needs columns and at least one part");
        }
        long rowBytes = format.rowBytes(cols);
        long rows = 0;
        Part[] copy = new Part[parts.size()];
        for (int i = 0; i < copy.length; i++) {
            Part p = parts.get(i);
            if (p.rows() <= 0 || p.data().capacity() != p.rows() * rowBytes) {
                throw new IllegalArgumentException("part " + i + ": " + p.data().capacity() + " bytes for " + p.rows()
                        + " rows of " + rowBytes + " bytes");
            }
            copy[i] = new Part(p.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).clear(), p.rows(), p.release());
            rows += p.rows();
        }
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a weight has at most 2^31 - 1 rows");
        }
        return new Weight(format, (int) rows, cols, copy, null);
    }

    /**
     * A float32 ND4J array {@code [rows, cols]} as a weight, for backends that multiply with ND4J's gemm
     * (CUDA). {@link #matmul} and {@link #row} are not available on such a weight.
     */
    public static Weight ofArray(INDArray array) {
        if (array.rank() != 2 || array.rows() > Integer.MAX_VALUE || array.columns() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a weight array must be a matrix, got " + Arrays.toString(array.shape()));
        }
        return new Weight(WeightFormat.F32, (int) array.rows(), (int) array.columns(), new Part[0], array);
    }

    /**
     * How many rows of a {@code rows x cols} matrix in {@code format} one part holds: as many as fit in
     * {@link #MAX_PART_BYTES}, at least one (a buffer is limited to 2 GiB; mapped regions are cut the same way).
     */
    public static int rowsPerPart(WeightFormat format, int rows, int cols) {
        return (int) Math.max(1, Math.min(rows, MAX_PART_BYTES / format.rowBytes(cols)));
    }

    /**
     * Converts float32 values {@code [rows, cols]} (row-major, read through {@code source}) into
     * {@code format}, in buffers this weight owns: narrowing rounds to nearest even, Q8_0 quantizes
     * each block of 32 to its own scale.
     */
    public static Weight convert(RowSource source, int rows, int cols, WeightFormat format) {
        long rowBytes = format.rowBytes(cols);
        int rowsPerPart = rowsPerPart(format, rows, cols);
        List<Part> parts = new ArrayList<>();
        float[] values = new float[cols];
        try {
            for (int first = 0; first < rows; first += rowsPerPart) {
                int count = Math.min(rowsPerPart, rows - first);
                NativeMemory.Allocation allocation = NativeMemory.allocate(count * rowBytes);
                parts.add(new Part(allocation.buffer(), count, allocation.free()));
                ByteBuffer data = allocation.buffer();
                for (int r = 0; r < count; r++) {
                    source.read(first + r, values);
                    Encoding.encodeRow(format, values, cols, data, (int) (r * rowBytes));
                }
            }
        } catch (RuntimeException | Error e) {
            parts.forEach(p -> p.release().run());
            throw e;
        }
        return ofParts(format, cols, parts);
    }

    /**
     * A copy with rows reordered, in this weight's format: row {@code r} of the result is row
     * {@code sourceRow.applyAsInt(r)} of this one (BLOOM's per-head q/k/v interleaving to blocks). For
     * float formats the copy is exact; for Q8_0 each block is re-quantized from its own dequantized
     * values, which gives back the same integers (the scale may move by one unit in the last place).
     */
    public Weight reorderRows(IntUnaryOperator sourceRow) {
        requireHost();
        return convert((r, into) -> row(sourceRow.applyAsInt(r), into, 0), rows, cols, format);
    }

    /** A copy in {@code target} (this weight when it is already in that format). */
    public Weight convertTo(WeightFormat target) {
        requireHost();
        return target == format ? this : convert((r, into) -> row(r, into, 0), rows, cols, target);
    }

    /** Supplies row {@code r} of a float32 matrix into {@code into[0, cols)}. */
    @FunctionalInterface
    public interface RowSource {
        void read(int row, float[] into);
    }

    /**
     * The weights stacked row-wise (rows of the first, then of the second, ...) without copying: the
     * parts move into the result, which then owns them, and the given weights count as closed (their
     * {@link #close} frees nothing, so the memory is freed once, by the result). All must share format
     * and column count.
     */
    public static Weight stack(Weight... weights) {
        List<Part> parts = new ArrayList<>();
        for (Weight w : weights) {
            if (w.array != null || w.format != weights[0].format || w.cols != weights[0].cols) {
                throw new IllegalArgumentException("stacked weights must be host weights of one format and width");
            }
            parts.addAll(Arrays.asList(w.parts));
        }
        Weight stacked = ofParts(weights[0].format, weights[0].cols, parts);
        for (Weight w : weights) {
            w.closed.set(true);
        }
        return stacked;
    }

    public WeightFormat format() {
        return format;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** {@code [rows, cols]}. */
    public long[] shape() {
        return new long[] {rows, cols};
    }

    /** Every weight as float32, row-major (dequantized): for tests and small matrices. */
    public float[] toFloats() {
        float[] all = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            row(r, all, r * cols);
        }
        return all;
    }

    /** Bytes the weights take in memory (what a decode step reads). */
    public long bytes() {
        return format.bytesFor(rows, cols);
    }

    /** The ND4J float32 form of a weight made by {@link #ofArray}, else null. */
    public INDArray array() {
        return array;
    }

    /** Whether {@link #matmul} and {@link #row} run on host memory (false for an {@link #ofArray} weight). */
    public boolean onHost() {
        return array == null;
    }

    int partCount() {
        return parts.length;
    }

    Part part(int i) {
        return parts[i];
    }

    int partStart(int i) {
        return partStarts[i];
    }

    long rowBytes() {
        return rowBytes;
    }

    /** Which part holds row {@code r}. */
    int partOf(int r) {
        int i = Arrays.binarySearch(partStarts, r);
        return i >= 0 ? i : -i - 2;
    }

    /** Row {@code r} as float32 into {@code into[offset, offset + cols)}: an embedding lookup. */
    public void row(int r, float[] into, int offset) {
        requireHost();
        if (r < 0 || r >= rows) {
            throw new IndexOutOfBoundsException("row " + r + " of a weight with " + rows + " rows");
        }
        int p = partOf(r);
        Encoding.decodeRow(format, parts[p].data(), (int) ((r - partStarts[p]) * rowBytes), cols, into, offset);
    }

    /**
     * {@code out[n, rows] = x[n, cols] W^T}, or {@code +=} when {@code accumulate}: every weight is read
     * once for all {@code n} input rows, sums in float32. Arrays are row-major and may be longer than
     * needed.
     */
    public void matmul(float[] x, int n, float[] out, boolean accumulate) {
        requireHost();
        if (n < 0 || x.length < (long) n * cols || out.length < (long) n * rows) {
            throw new IllegalArgumentException("matmul: x holds " + x.length + " and out " + out.length
                    + " floats, need " + (long) n * cols + " and " + (long) n * rows + " for " + n + " rows of a "
                    + rows + "x" + cols + " weight");
        }
        MatMul.multiply(this, x, n, out, accumulate);
    }

    private void requireHost() {
        if (array != null) {
            throw new IllegalStateException("this weight is an ND4J array; multiply it with ND4J");
        }
        if (closed.get()) {
            throw new IllegalStateException("the weight is closed");
        }
    }

    /** Frees the memory this weight owns (idempotent); it must not be used afterwards. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            for (Part p : parts) {
                if (p.release() != null) {
                    p.release().run();
                }
            }
            if (array != null && array.closeable()) {
                array.close();
            }
        }
    }

    @Override
    public String toString() {
        return format.label() + "[" + rows + ", " + cols + "]";
    }
}
