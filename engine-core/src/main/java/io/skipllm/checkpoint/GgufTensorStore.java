package io.skipllm.checkpoint;

import io.skipllm.weights.HalfFloats;
import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntUnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The tensors of a GGUF file under the Hugging Face names the LLaMA loader asks for ({@code token_embd}
 * is {@code model.embed_tokens}, {@code blk.N.attn_q} is {@code model.layers.N.self_attn.q_proj}, ...),
 * shapes outermost first, so the architecture code reads a GGUF file exactly as a safetensors
 * checkpoint.
 *
 * <p>In-memory formats ({@link #storedFormat}): F32, F16 and BF16 stay as stored, memory-mapped; Q4_0 is
 * copied once with each row's scales moved ahead of its nibbles (the engine's Q4_0 row, the same ggml
 * blocks; {@link WeightFormat#repackGgufQ4Row}); Q8_0 is repacked once, exactly, to the engine's Q8_0
 * (ggml's f16 block scale widened to float32: 34 bytes a block become 36); Q4_K, Q5_K and Q6_K are
 * decoded and quantized to the engine's Q8_0 at load (the nearest format the kernels take: 8.5 bits a
 * weight where they have 4.5 to 6.6); any other type is refused by name. A {@code --weights} format
 * converts from the decoded values.
 *
 * <p>Rotary layout: llama.cpp's converter permutes the rows of each head of q and k in {@code llama}
 * files so that the pairs it rotates are adjacent (rows 2j, 2j + 1), where Hugging Face rotates rows j
 * and j + headDim/2. With {@code permutedHeads} set, those rows are put back in Hugging Face's order at
 * load (the rows of Q8_0 blocks move whole, so nothing is requantized); {@code qwen2} files are not
 * permuted.
 */
final class GgufTensorStore implements TensorStore {

    private static final Pattern LAYER = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.(weight|bias)");
    private static final Map<String, String> LAYER_NAMES = Map.of(
            "attn_norm", "input_layernorm", "attn_q", "self_attn.q_proj", "attn_k", "self_attn.k_proj",
            "attn_v", "self_attn.v_proj", "attn_output", "self_attn.o_proj", "ffn_norm", "post_attention_layernorm",
            "ffn_gate", "mlp.gate_proj", "ffn_up", "mlp.up_proj", "ffn_down", "mlp.down_proj");

    private final GgufFile file;
    /** Hugging Face name to GGUF tensor, sorted. */
    private final Map<String, GgufFile.Tensor> byName;
    /** Head size and head counts of q and k when their rows are permuted (llama), else null. */
    private final int[] permutedHeads;

    /**
     * @param permutedHeads {@code {headDim, numHeads, numKvHeads}} for files whose q/k rows llama.cpp's
     *     converter permuted, or null
     */
    GgufTensorStore(GgufFile file, int[] permutedHeads) {
        this.file = file;
        this.permutedHeads = permutedHeads;
        Map<String, GgufFile.Tensor> names = new TreeMap<>();
        for (GgufFile.Tensor t : file.tensors().values()) {
            names.put(hfName(t.name()), t);
        }
        this.byName = Collections.unmodifiableMap(names);
    }

    /** The Hugging Face name of GGUF tensor {@code name}; names without one keep their GGUF name. */
    static String hfName(String name) {
        switch (name) {
            case "token_embd.weight":
                return "model.embed_tokens.weight";
            case "output_norm.weight":
                return "model.norm.weight";
            case "output.weight":
                return "lm_head.weight";
            default:
                break;
        }
        Matcher m = LAYER.matcher(name);
        if (m.matches() && LAYER_NAMES.containsKey(m.group(2))) {
            return "model.layers." + Integer.parseInt(m.group(1)) + "." + LAYER_NAMES.get(m.group(2)) + "." + m.group(3);
        }
        return name;
    }

    @Override
    public String location() {
        return file.path().toString();
    }

    @Override
    public Set<String> names() {
        return byName.keySet();
    }

    @Override
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        GgufFile.Tensor t = tensor(name);
        return new TensorInfo(name, t.type().name(), t.shape(), file.path());
    }

    @Override
    public TensorInfo require(String name, long... expectedShape) {
        GgufFile.Tensor t = tensor(name);
        TensorInfo info = info(name);
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new CheckpointException(file.path() + ": tensor '" + t.name() + "' (" + name + ") has shape "
                    + Arrays.toString(info.shape()) + ", expected " + Arrays.toString(expectedShape));
        }
        if (!t.type().loadable) {
            throw new CheckpointException(file.path() + ": tensor '" + t.name() + "' has type " + t.type()
                    + ", which skipllm cannot load; supported: " + GgufType.loadableNames());
        }
        return info;
    }

    @Override
    public WeightFormat storedFormat(String name) {
        GgufFile.Tensor t = tensor(name);
        return switch (t.type()) {
            case F32 -> WeightFormat.F32;
            case F16 -> WeightFormat.F16;
            case BF16 -> WeightFormat.BF16;
            case Q4_0 -> WeightFormat.Q4_0;
            case Q8_0, Q4_K, Q5_K, Q6_K -> WeightFormat.Q8_0;
            default -> throw new CheckpointException(file.path() + ": tensor '" + t.name() + "' has type " + t.type()
                    + ", which skipllm cannot load; supported: " + GgufType.loadableNames());
        };
    }

    @Override
    public INDArray loadFloat(String name, long... expectedShape) {
        file.ensureOpen();
        require(name, expectedShape);
        GgufFile.Tensor t = tensor(name);
        long elements = 1;
        for (long d : t.dims()) {
            elements *= d;
        }
        if (elements > Integer.MAX_VALUE) {
            throw new CheckpointException(file.path() + ": tensor '" + t.name() + "' is too large to read as one array");
        }
        int cols = (int) t.dims()[0];
        int rows = (int) (elements / cols);
        float[] stored = new float[(int) elements];
        float[] row = new float[cols];
        try (Rows source = new Rows(t, rows, null)) {
            for (int r = 0; r < rows; r++) {
                source.decode(r, row);
                System.arraycopy(row, 0, stored, r * cols, cols);
            }
        }
        // a permuted q/k bias is a vector whose elements are the rows of the permutation
        boolean vector = t.dims().length == 1;
        IntUnaryOperator order = rowOrder(name, vector ? cols : rows);
        float[] all = stored;
        if (order != null) {
            all = new float[stored.length];
            int width = vector ? 1 : cols;
            for (int r = 0; r < stored.length / width; r++) {
                System.arraycopy(stored, order.applyAsInt(r) * width, all, r * width, width);
            }
        }
        return Nd4j.createFromArray(all).reshape('c', expectedShape).castTo(DataType.FLOAT);
    }

    @Override
    public Weight loadWeight(String name, WeightFormat format, long rows, long cols) {
        file.ensureOpen();
        require(name, rows, cols);
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new CheckpointException(file.path() + ": tensor '" + name + "' is too large for one weight matrix");
        }
        GgufFile.Tensor t = tensor(name);
        int r = (int) rows;
        int c = (int) cols;
        WeightFormat natural = storedFormat(name);
        IntUnaryOperator order = rowOrder(name, r);
        boolean kQuant = t.type() == GgufType.Q4_K || t.type() == GgufType.Q5_K || t.type() == GgufType.Q6_K;
        if (format != null && format != natural || kQuant) {
            return convert(t, r, c, format == null ? natural : format, order);
        }
        if (order == null && t.type() != GgufType.Q8_0 && t.type() != GgufType.Q4_0) {
            return map(t, natural, r, c);   // the file's bytes are the in-memory format's
        }
        return copy(t, natural, r, c, order);
    }

    /** Infinity or NaN anywhere in {@code data} (rows of {@code format}) is refused; block formats: their scales. */
    private void requireFinite(ByteBuffer data, WeightFormat format, GgufFile.Tensor t) {
        if (format != WeightFormat.Q8_0 && format != WeightFormat.Q4_0) {   // their scales are checked while repacking
            WeightReader.requireFinite(data, format, where(t));
        }
    }

    /** Where row r of the Hugging Face layout is in the file, or null when the rows are in order. */
    private IntUnaryOperator rowOrder(String name, int rows) {
        if (permutedHeads == null) {
            return null;
        }
        boolean q = name.endsWith(".self_attn.q_proj.weight") || name.endsWith(".self_attn.q_proj.bias");
        boolean k = name.endsWith(".self_attn.k_proj.weight") || name.endsWith(".self_attn.k_proj.bias");
        if (!q && !k) {
            return null;
        }
        int headDim = permutedHeads[0];
        int heads = q ? permutedHeads[1] : permutedHeads[2];
        if ((long) heads * headDim != rows) {
            throw new CheckpointException(file.path() + ": tensor '" + name + "' has " + rows + " rows, expected "
                    + heads + " heads of " + headDim);
        }
        int half = headDim / 2;
        // Hugging Face row (h, s * half + j) was written by the converter as row (h, 2j + s)
        return row -> {
            int h = row / headDim;
            int i = row % headDim;
            return h * headDim + 2 * (i % half) + i / half;
        };
    }

    /** Float tensors kept as stored: regions of the file, mapped, checked finite. */
    private Weight map(GgufFile.Tensor t, WeightFormat format, int rows, int cols) {
        long rowBytes = format.rowBytes(cols);
        int rowsPerPart = Weight.rowsPerPart(format, rows, cols);
        List<Weight.Part> parts = new ArrayList<>();
        long position = file.dataStart() + t.offset();
        try {
            for (int first = 0; first < rows; first += rowsPerPart) {
                int count = Math.min(rowsPerPart, rows - first);
                MappedByteBuffer region = file.channel().map(FileChannel.MapMode.READ_ONLY,
                        position + first * rowBytes, count * rowBytes);
                parts.add(new Weight.Part(region, count, () -> Unmapper.unmap(region)));
                requireFinite(region.duplicate().order(ByteOrder.LITTLE_ENDIAN), format, t);
            }
        } catch (IOException e) {
            parts.forEach(p -> p.release().run());
            throw new CheckpointException(where(t) + ": cannot read data: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            parts.forEach(p -> p.release().run());
            throw e;
        }
        return Weight.ofParts(format, cols, parts);
    }

    /**
     * The rows in Hugging Face order, in {@code format} (the tensor's own float type, or Q8_0 from ggml's
     * Q8_0), into memory the weight owns: bytes copied, Q8_0 scales widened exactly, nothing requantized.
     */
    private Weight copy(GgufFile.Tensor t, WeightFormat format, int rows, int cols, IntUnaryOperator order) {
        long rowBytes = format.rowBytes(cols);
        int rowsPerPart = Weight.rowsPerPart(format, rows, cols);
        List<Weight.Part> parts = new ArrayList<>();
        try (Rows source = new Rows(t, rows, order)) {
            for (int first = 0; first < rows; first += rowsPerPart) {
                int count = Math.min(rowsPerPart, rows - first);
                Pointer raw = Pointer.calloc(Math.max(1, count * rowBytes), 1);
                if (raw == null || raw.isNull()) {
                    throw new OutOfMemoryError("could not allocate " + count * rowBytes + " bytes for " + where(t));
                }
                ByteBuffer data = new BytePointer(raw).capacity(count * rowBytes).asByteBuffer()
                        .order(ByteOrder.LITTLE_ENDIAN);
                parts.add(new Weight.Part(data, count, () -> Pointer.free(raw)));
                for (int r = 0; r < count; r++) {
                    source.copyRow(first + r, data, (int) (r * rowBytes), format, cols);
                }
                requireFinite(data.duplicate().order(ByteOrder.LITTLE_ENDIAN), format, t);
            }
        } catch (RuntimeException | Error e) {
            parts.forEach(p -> p.release().run());
            throw e;
        }
        return Weight.ofParts(format, cols, parts);
    }

    /** Decoded to float32 and converted to {@code format} (K-quants, Q4_0, or another {@code --weights}). */
    private Weight convert(GgufFile.Tensor t, int rows, int cols, WeightFormat format, IntUnaryOperator order) {
        try (Rows source = new Rows(t, rows, order)) {
            return Weight.convert(source::decode, rows, cols, format);
        }
    }

    private GgufFile.Tensor tensor(String name) {
        GgufFile.Tensor t = byName.get(name);
        if (t == null) {
            throw TensorNameHints.missing(name, file.path().toString(), names());
        }
        return t;
    }

    private String where(GgufFile.Tensor t) {
        return file.path() + ": tensor '" + t.name() + "'";
    }

    @Override
    public void close() {
        file.close();
    }

    /**
     * Row access to one tensor, the file mapped one region (at most 1 GiB, whole rows) at a time and
     * unmapped when the next is needed or on close. Rows are addressed in Hugging Face order. One thread.
     */
    private final class Rows implements AutoCloseable {
        private static final long MAX_REGION_BYTES = 1L << 30;
        private final GgufFile.Tensor tensor;
        private final int rows;
        private final int cols;
        private final long rowBytes;
        private final int rowsPerRegion;
        private final IntUnaryOperator order;
        private MappedByteBuffer region;
        private int regionFirst = -1;

        Rows(GgufFile.Tensor tensor, int rows, IntUnaryOperator order) {
            this.tensor = tensor;
            this.rows = rows;
            this.cols = (int) tensor.dims()[0];
            this.rowBytes = tensor.type().rowBytes(cols);
            this.rowsPerRegion = (int) Math.max(1, Math.min(rows, MAX_REGION_BYTES / rowBytes));
            this.order = order;
        }

        /** The byte offset of (Hugging Face) row {@code row} inside the current region, mapping as needed. */
        private int locate(int row) {
            int stored = order == null ? row : order.applyAsInt(row);
            if (regionFirst < 0 || stored < regionFirst || stored >= regionFirst + rowsPerRegion) {
                release();
                int first = stored - stored % rowsPerRegion;
                int count = Math.min(rowsPerRegion, rows - first);
                try {
                    region = file.channel().map(FileChannel.MapMode.READ_ONLY,
                            file.dataStart() + tensor.offset() + first * rowBytes, count * rowBytes);
                } catch (IOException e) {
                    throw new CheckpointException(where(tensor) + ": cannot read data: " + e.getMessage(), e);
                }
                region.order(ByteOrder.LITTLE_ENDIAN);
                regionFirst = first;
            }
            return (int) ((stored - regionFirst) * rowBytes);
        }

        /** Row {@code row} as float32, checked finite. */
        void decode(int row, float[] into) {
            GgufDecoding.decodeRow(tensor.type(), region(row), locate(row), cols, into);
            for (int i = 0; i < cols; i++) {
                if (!Float.isFinite(into[i])) {
                    throw nonFinite();
                }
            }
        }

        private ByteBuffer region(int row) {
            locate(row);
            return region;
        }

        /** Row {@code row} into {@code out} at {@code at}, in {@code format}: bytes as stored, or Q8_0/Q4_0 repacked. */
        void copyRow(int row, ByteBuffer out, int at, WeightFormat format, int cols) {
            int from = locate(row);
            if (format == WeightFormat.Q4_0) {
                int blocks = (cols + WeightFormat.Q4_BLOCK - 1) / WeightFormat.Q4_BLOCK;
                for (int b = 0; b < blocks; b++) {
                    if (!Float.isFinite(HalfFloats.f16ToFloat(region.getShort(from + WeightFormat.Q4_BLOCK_BYTES * b)))) {
                        throw nonFinite();
                    }
                }
                WeightFormat.repackGgufQ4Row(region, from, out, at, cols);
                return;
            }
            if (format != WeightFormat.Q8_0) {
                out.put(at, region, from, (int) rowBytes);
                return;
            }
            for (int b = 0; b < cols / 32; b++) {
                float d = HalfFloats.f16ToFloat(region.getShort(from + 34 * b));
                if (!Float.isFinite(d)) {
                    throw nonFinite();
                }
                out.putFloat(at + 36 * b, d);
                out.put(at + 36 * b + 4, region, from + 34 * b + 2, 32);
            }
        }

        private CheckpointException nonFinite() {
            return new CheckpointException(where(tensor) + " has NaN or infinite values; weights must be finite");
        }

        private void release() {
            if (region != null) {
                Unmapper.unmap(region);
                region = null;
                regionFirst = -1;
            }
        }

        @Override
        public void close() {
            release();
        }
    }
}
