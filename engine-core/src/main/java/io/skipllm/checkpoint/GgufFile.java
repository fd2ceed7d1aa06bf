package io.skipllm.checkpoint;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One GGUF file (llama.cpp's format, versions 2 and 3), opened and validated: the metadata key/values,
 * the tensor infos and the data section, which stays on disk and is memory-mapped tensor by tensor.
 *
 * <p>Layout (little-endian): magic {@code GGUF}, version u32, tensor count u64, metadata count u64,
 * the metadata (key string, value type u32, value), the tensor infos (name string, dimension count
 * u32, dimensions u64 innermost first, type u32, offset u64 into the data section), padding to
 * {@code general.alignment} (default 32), the data section. A string is a u64 byte length and UTF-8
 * bytes; an array is an element type u32, a count u64 and the elements.
 *
 * <p>As with {@link SafetensorsHeader}, everything the file claims is checked before any tensor is
 * read: every count and length against a cap and against the bytes left in the file (so nothing is
 * ever allocated at a size the file chose before it was checked), strings as UTF-8, each tensor's type
 * id, dimensions, alignment, byte range inside the file and its byte size against type and shape, and
 * that no two tensors share bytes. A bad file is one {@link CheckpointException} naming the file and
 * the field.
 */
public final class GgufFile implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GgufFile.class);

    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    /** Caps far above real files (LLaMA 3: 291 tensors, ~40 keys, 128k-token vocabularies, ~300k merges). */
    static final long MAX_TENSORS = 1 << 20;
    static final long MAX_KEYS = 1 << 16;
    static final long MAX_ARRAY_ELEMENTS = 1 << 24;
    static final long MAX_STRING_BYTES = 1 << 24;
    static final int MAX_KEY_BYTES = 1 << 16;
    static final int MAX_DIMS = 4;
    static final int MAX_ARRAY_DEPTH = 4;

    /** Metadata value types, by their u32 id. */
    enum ValueType {
        UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(8), ARRAY(12),
        UINT64(8), INT64(8), FLOAT64(8);

        /** The fewest bytes one value of this type takes in the file (for a string or array: its header). */
        final int minBytes;

        ValueType(int minBytes) {
            this.minBytes = minBytes;
        }

        static Optional<ValueType> byId(long id) {
            return id >= 0 && id < values().length ? Optional.of(values()[(int) id]) : Optional.empty();
        }
    }

    /**
     * A metadata array: {@code values} is a {@code long[]} for the integer types (unsigned 64-bit values
     * as their bit pattern), {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]}, or a
     * {@code GgufArray[]} for arrays of arrays.
     */
    public record GgufArray(String elementType, int length, Object values) {
    }

    /** One tensor: its GGUF name, type, dimensions (innermost first, as the file has them) and bytes. */
    record Tensor(String name, GgufType type, long[] dims, long offset, long byteLength) {
        /** Dimensions outermost first ({@code [rows, cols]} for a matrix), as safetensors writes them. */
        long[] shape() {
            long[] shape = new long[dims.length];
            for (int i = 0; i < dims.length; i++) {
                shape[i] = dims[dims.length - 1 - i];
            }
            return shape;
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, Tensor> tensors;
    private final long dataStart;
    private volatile boolean closed;

    private GgufFile(Path path, FileChannel channel, int version, Map<String, Object> metadata,
            Map<String, Tensor> tensors, long dataStart) {
        this.path = path;
        this.channel = channel;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.dataStart = dataStart;
    }

    /** Whether {@code path} starts with the GGUF magic (false for a directory or a short file). */
    public static boolean isGguf(Path path) {
        if (!Files.isRegularFile(path)) {
            return false;
        }
        try (FileChannel c = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && c.read(b) >= 0) {
                // read the four magic bytes
            }
            return !b.hasRemaining() && b.getInt(0) == MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    /** Opens {@code path} and validates its header, metadata and tensor infos against the file's size. */
    public static GgufFile open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new CheckpointException(path + ": GGUF file not found");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path + ": GGUF file not found", e);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            GgufFile file = new Parser(path, channel).parse();
            LOG.debug("{}: GGUF v{}, {} metadata keys, {} tensors, data at byte {}", path, file.version,
                    file.metadata.size(), file.tensors.size(), file.dataStart);
            return file;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new CheckpointException(path + ": cannot read the GGUF header: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** 2 or 3. */
    public int version() {
        return version;
    }

    /** Every metadata key with its value (Long, Float, Double, Boolean, String or {@link GgufArray}), in file order. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    Map<String, Tensor> tensors() {
        return tensors;
    }

    FileChannel channel() {
        return channel;
    }

    long dataStart() {
        return dataStart;
    }

    /** A string value, or empty when the key is absent; another type is an error naming the key. */
    public Optional<String> string(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof String s) {
            return Optional.of(s);
        }
        throw wrongType(key, "a string", v);
    }

    /** An integer value (any integer type), or empty when absent. */
    public Optional<Long> integer(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Long l) {
            return Optional.of(l);
        }
        throw wrongType(key, "an integer", v);
    }

    /** An integer value that must fit a positive int, or empty when absent. */
    public Optional<Integer> positiveInt(String key) {
        Optional<Long> v = integer(key);
        if (v.isPresent() && (v.get() <= 0 || v.get() > Integer.MAX_VALUE)) {
            throw new CheckpointException(path + ": metadata '" + key + "' is " + v.get()
                    + ", expected a positive 32-bit integer");
        }
        return v.map(Long::intValue);
    }

    /** A float value (FLOAT32 or FLOAT64; an integer is accepted too), or empty when absent. */
    public Optional<Double> real(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Float f) {
            return Optional.of(f.doubleValue());
        }
        if (v instanceof Double d) {
            return Optional.of(d);
        }
        if (v instanceof Long l) {
            return Optional.of(l.doubleValue());
        }
        throw wrongType(key, "a number", v);
    }

    /** A boolean value, or empty when absent. */
    public Optional<Boolean> bool(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Boolean b) {
            return Optional.of(b);
        }
        throw wrongType(key, "a boolean", v);
    }

    /** An array value, or empty when absent. */
    public Optional<GgufArray> array(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof GgufArray a) {
            return Optional.of(a);
        }
        throw wrongType(key, "an array", v);
    }

    /** An array of strings, or empty when absent; an array of another type is an error. */
    public Optional<String[]> strings(String key) {
        return array(key).map(a -> {
            if (a.values() instanceof String[] s) {
                return s;
            }
            throw new CheckpointException(path + ": metadata '" + key + "' is an array of " + a.elementType()
                    + ", expected an array of strings");
        });
    }

    /** An array of FLOAT32 values, or empty when absent. */
    public Optional<float[]> floats(String key) {
        return array(key).map(a -> {
            if (a.values() instanceof float[] f) {
                return f;
            }
            throw new CheckpointException(path + ": metadata '" + key + "' is an array of " + a.elementType()
                    + ", expected an array of FLOAT32");
        });
    }

    /** An array of integers (any integer type), or empty when absent. */
    public Optional<long[]> integers(String key) {
        return array(key).map(a -> {
            if (a.values() instanceof long[] l) {
                return l;
            }
            throw new CheckpointException(path + ": metadata '" + key + "' is an array of " + a.elementType()
                    + ", expected an array of integers");
        });
    }

    /** A clear error about metadata key {@code key}. */
    public CheckpointException error(String key, String problem) {
        return new CheckpointException(path + ": metadata '" + key + "' " + problem);
    }

    private CheckpointException wrongType(String key, String expected, Object v) {
        return new CheckpointException(path + ": metadata '" + key + "' is " + describe(v) + ", expected "
                + expected);
    }

    private static String describe(Object v) {
        if (v instanceof GgufArray a) {
            return "an array of " + a.elementType();
        }
        return v instanceof String ? "a string" : v instanceof Boolean ? "a boolean"
                : v instanceof Long ? "an integer" : "a float";
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeQuietly(channel);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a GGUF file failed", e);
        }
    }

    /**
     * Reads the header through a small window over the channel, so that a file of any size is parsed in
     * bounded memory; every length is checked against the bytes left before anything is allocated for it.
     */
    private static final class Parser {
        private static final int WINDOW = 1 << 16;

        private final Path path;
        private final FileChannel channel;
        private final long fileSize;
        private final ByteBuffer window = ByteBuffer.allocate(WINDOW).order(ByteOrder.LITTLE_ENDIAN);
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        /** File offset of {@code window}'s byte 0. */
        private long windowStart;
        /** Where the next read starts. */
        private long position;

        Parser(Path path, FileChannel channel) throws IOException {
            this.path = path;
            this.channel = channel;
            this.fileSize = channel.size();
            window.limit(0);
        }

        GgufFile parse() throws IOException {
            if (fileSize < 24) {
                throw fail(fileSize + " bytes is too short for a GGUF file (the header alone takes 24)");
            }
            int magic = (int) u32("magic");
            if (magic != MAGIC) {
                throw fail("not a GGUF file: the first four bytes are not 'GGUF'");
            }
            long version = u32("version");
            if (version != 2 && version != 3) {
                throw fail("GGUF version " + version + " is not supported; versions 2 and 3 are"
                        + (version == 1 ? " (version 1 files predate 64-bit counts: convert them again)" : ""));
            }
            long tensorCount = u64("tensor_count");
            long keyCount = u64("metadata_kv_count");
            if (tensorCount < 0 || tensorCount > MAX_TENSORS) {
                throw fail("tensor_count " + Long.toUnsignedString(tensorCount) + " exceeds the limit of " + MAX_TENSORS);
            }
            if (keyCount < 0 || keyCount > MAX_KEYS) {
                throw fail("metadata_kv_count " + Long.toUnsignedString(keyCount) + " exceeds the limit of " + MAX_KEYS);
            }
            Map<String, Object> metadata = new LinkedHashMap<>();
            for (long i = 0; i < keyCount; i++) {
                String key = string("metadata key " + i, MAX_KEY_BYTES);
                long typeId = u32("type of metadata '" + key + "'");
                ValueType type = ValueType.byId(typeId)
                        .orElseThrow(() -> fail("metadata '" + key + "' has unknown value type " + typeId));
                Object value = value(type, "metadata '" + key + "'", 0);
                if (metadata.put(key, value) != null) {
                    throw fail("metadata key '" + key + "' appears twice");
                }
            }
            int alignment = alignment(metadata);
            List<Tensor> infos = new ArrayList<>();
            Map<String, Tensor> byName = new LinkedHashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                Tensor t = tensorInfo(i, alignment);
                if (byName.put(t.name(), t) != null) {
                    throw fail("tensor '" + t.name() + "' appears twice");
                }
                infos.add(t);
            }
            long dataStart = align(position, alignment);
            long dataSize = fileSize - dataStart;
            for (Tensor t : infos) {
                if (t.offset() > dataSize || t.byteLength() > dataSize - t.offset()) {
                    throw fail("tensor '" + t.name() + "': bytes [" + t.offset() + ", " + (t.offset() + t.byteLength())
                            + ") of the data section run past its end (" + Math.max(0, dataSize)
                            + " bytes); the file is truncated or corrupt");
                }
            }
            checkNoOverlap(infos);
            return new GgufFile(path, channel, (int) version, metadata, byName, dataStart);
        }

        private int alignment(Map<String, Object> metadata) {
            Object a = metadata.get("general.alignment");
            if (a == null) {
                return DEFAULT_ALIGNMENT;
            }
            if (!(a instanceof Long l) || l <= 0 || l > (1 << 20) || Long.bitCount(l) != 1) {
                throw fail("metadata 'general.alignment' is " + a + ", expected a power of two up to 2^20");
            }
            return (int) (long) l;
        }

        private Tensor tensorInfo(long index, int alignment) throws IOException {
            String name = string("name of tensor " + index, MAX_KEY_BYTES);
            String where = "tensor '" + name + "'";
            long nDims = u32(where + " n_dims");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw fail(where + ": " + nDims + " dimensions; expected 1 to " + MAX_DIMS);
            }
            long[] dims = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = u64(where + " dimension " + d);
                if (dims[d] <= 0 || dims[d] > (1L << 40)) {
                    throw fail(where + ": dimension " + d + " is " + Long.toUnsignedString(dims[d])
                            + "; expected 1 to 2^40");
                }
                elements = multiply(elements, dims[d], where);
            }
            long typeId = u32(where + " type");
            GgufType type = GgufType.byId(typeId)
                    .orElseThrow(() -> fail(where + ": unknown tensor type id " + typeId));
            long offset = u64(where + " offset");
            if (offset < 0 || offset % alignment != 0) {
                throw fail(where + ": offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment "
                        + alignment);
            }
            if (dims[0] % type.blockWeights != 0) {
                throw fail(where + ": its first dimension " + dims[0] + " is not a multiple of the " + type
                        + " block size " + type.blockWeights);
            }
            long bytes = multiply(elements / type.blockWeights, type.blockBytes, where);
            return new Tensor(name, type, dims, offset, bytes);
        }

        private long multiply(long a, long b, String where) {
            try {
                return Math.multiplyExact(a, b);
            } catch (ArithmeticException e) {
                throw fail(where + ": its dimensions overflow a 64-bit size");
            }
        }

        private void checkNoOverlap(List<Tensor> infos) {
            List<Tensor> sorted = new ArrayList<>(infos);
            sorted.sort(Comparator.comparingLong(Tensor::offset));
            for (int i = 1; i < sorted.size(); i++) {
                Tensor a = sorted.get(i - 1);
                Tensor b = sorted.get(i);
                if (b.offset() < a.offset() + a.byteLength()) {
                    throw fail("tensors '" + a.name() + "' [" + a.offset() + ", " + (a.offset() + a.byteLength())
                            + ") and '" + b.name() + "' [" + b.offset() + ", " + (b.offset() + b.byteLength())
                            + ") overlap in the data section");
                }
            }
        }

        private Object value(ValueType type, String where, int depth) throws IOException {
            return switch (type) {
                case UINT8 -> (long) (u8(where) & 0xff);
                case INT8 -> (long) (byte) u8(where);
                case UINT16 -> (long) (short16(where) & 0xffff);
                case INT16 -> (long) short16(where);
                case UINT32 -> u32(where);
                case INT32 -> (long) (int) u32(where);
                case UINT64, INT64 -> u64(where);
                case FLOAT32 -> Float.intBitsToFloat((int) u32(where));
                case FLOAT64 -> Double.longBitsToDouble(u64(where));
                case BOOL -> bool(where);
                case STRING -> string(where, MAX_STRING_BYTES);
                case ARRAY -> array(where, depth);
            };
        }

        private boolean bool(String where) throws IOException {
            int b = u8(where);
            if (b > 1) {
                throw fail(where + ": boolean byte is " + b + ", expected 0 or 1");
            }
            return b == 1;
        }

        private GgufArray array(String where, int depth) throws IOException {
            if (depth >= MAX_ARRAY_DEPTH) {
                throw fail(where + ": arrays nested deeper than " + MAX_ARRAY_DEPTH);
            }
            long typeId = u32(where + " element type");
            ValueType type = ValueType.byId(typeId)
                    .orElseThrow(() -> fail(where + ": unknown array element type " + typeId));
            long count = u64(where + " length");
            long left = fileSize - position;
            if (count < 0 || count > MAX_ARRAY_ELEMENTS || count > left / type.minBytes) {
                throw fail(where + ": array length " + Long.toUnsignedString(count) + " exceeds the limit of "
                        + MAX_ARRAY_ELEMENTS + " or the " + left + " bytes left in the file");
            }
            int n = (int) count;
            String element = where + " element";
            Object values;
            switch (type) {
                case FLOAT32 -> {
                    float[] v = new float[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = Float.intBitsToFloat((int) u32(element));
                    }
                    values = v;
                }
                case FLOAT64 -> {
                    double[] v = new double[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = Double.longBitsToDouble(u64(element));
                    }
                    values = v;
                }
                case BOOL -> {
                    boolean[] v = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = bool(element);
                    }
                    values = v;
                }
                case STRING -> {
                    String[] v = new String[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = string(where + " element " + i, MAX_STRING_BYTES);
                    }
                    values = v;
                }
                case ARRAY -> {
                    GgufArray[] v = new GgufArray[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = array(where + " element " + i, depth + 1);
                    }
                    values = v;
                }
                default -> {
                    long[] v = new long[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = (Long) value(type, element, depth);
                    }
                    values = v;
                }
            }
            return new GgufArray(type.name(), n, values);
        }

        private String string(String where, long cap) throws IOException {
            long length = u64(where + " length");
            long left = fileSize - position;
            if (length < 0 || length > cap || length > left) {
                throw fail(where + ": string length " + Long.toUnsignedString(length) + " exceeds the limit of "
                        + cap + " bytes or the " + left + " bytes left in the file");
            }
            byte[] bytes = bytes((int) length, where);
            try {
                CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(bytes));
                return chars.toString();
            } catch (CharacterCodingException e) {
                throw fail(where + ": string is not valid UTF-8");
            }
        }

        private byte[] bytes(int length, String where) throws IOException {
            byte[] out = new byte[length];
            int done = 0;
            while (done < length) {
                ensure(1, where);
                int n = Math.min(length - done, window.remaining());
                window.get(out, done, n);
                done += n;
                position += n;
            }
            return out;
        }

        private int u8(String where) throws IOException {
            ensure(1, where);
            position += 1;
            return window.get() & 0xff;
        }

        private short short16(String where) throws IOException {
            ensure(2, where);
            position += 2;
            return window.getShort();
        }

        private long u32(String where) throws IOException {
            ensure(4, where);
            position += 4;
            return window.getInt() & 0xffffffffL;
        }

        private long u64(String where) throws IOException {
            ensure(8, where);
            position += 8;
            return window.getLong();
        }

        /** Makes {@code n} bytes at {@link #position} available in the window, or fails: the file ends. */
        private void ensure(int n, String where) throws IOException {
            if (position + n > fileSize) {
                throw fail(where + ": the file ends at byte " + fileSize + "; it is truncated or corrupt");
            }
            if (position + n <= windowStart + window.limit() && position >= windowStart) {
                return;
            }
            window.clear();
            windowStart = position;
            long want = Math.min(WINDOW, fileSize - position);
            window.limit((int) want);
            while (window.hasRemaining()) {
                if (channel.read(window, windowStart + window.position()) < 0) {
                    throw new EOFException("unexpected end of file at byte " + (windowStart + window.position()));
                }
            }
            window.flip();
        }

        private static long align(long offset, int alignment) {
            return (offset + alignment - 1) / alignment * alignment;
        }

        private CheckpointException fail(String problem) {
            return new CheckpointException(path + ": " + problem);
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + tensors.size() + " tensors, " + Arrays.toString(
                metadata.keySet().stream().limit(3).toArray()) + "...]";
    }
}
