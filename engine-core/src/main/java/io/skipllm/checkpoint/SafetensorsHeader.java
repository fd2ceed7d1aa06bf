package io.skipllm.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The parsed and fully validated header of a safetensors file. Layout: an 8-byte little-endian header
 * length N, N bytes of UTF-8 JSON, then the data section, which every {@code data_offsets} pair indexes
 * relative to its start.
 *
 * <p>Everything the header claims is checked against the file before any tensor is touched: the
 * length field, each entry's dtype, shape and offsets, that each byte range is exactly as long as
 * its dtype and shape require, and that no two tensors share bytes. After this, reading a tensor can
 * only fail on I/O, never by reading outside the file or misinterpreting bytes.
 */
final class SafetensorsHeader {

    /** The reference implementation's limit; real headers are well under 10 MB. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /** One tensor's header entry; {@code dtype} is null for a dtype name this reader does not know. */
    record Entry(TensorInfo info, SafetensorsDtype dtype, long begin, long end) {
        long byteLength() {
            return end - begin;
        }
    }

    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final long dataStart;

    private SafetensorsHeader(Map<String, Entry> entries, Map<String, String> metadata, long dataStart) {
        this.entries = Collections.unmodifiableMap(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.dataStart = dataStart;
    }

    /** Entries by tensor name, sorted by name. */
    Map<String, Entry> entries() {
        return entries;
    }

    Map<String, String> metadata() {
        return metadata;
    }

    /** Absolute file offset of the data section. */
    long dataStart() {
        return dataStart;
    }

    static SafetensorsHeader read(FileChannel channel, Path file) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new CheckpointException(file + ": " + fileSize
                    + " bytes is too short for a safetensors file (the header length alone takes 8 bytes)");
        }
        long headerLength = readFully(channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointException(file + ": header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the " + MAX_HEADER_BYTES + "-byte limit; not a safetensors file or corrupt");
        }
        if (8 + headerLength > fileSize) {
            throw new CheckpointException(file + ": header length " + headerLength + " runs past the end of the "
                    + fileSize + "-byte file; the file is truncated or corrupt");
        }
        byte[] json = readFully(channel, 8, (int) headerLength).array();
        ObjectNode root = JsonDocuments.parseObject(json, file + " (safetensors header)");
        long dataStart = 8 + headerLength;
        return parse(root, file, fileSize - dataStart, dataStart);
    }

    private static SafetensorsHeader parse(ObjectNode root, Path file, long dataSize, long dataStart) {
        Map<String, Entry> entries = new TreeMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                metadata.putAll(metadata(field.getValue(), file));
            } else {
                entries.put(field.getKey(), entry(field.getKey(), field.getValue(), file, dataSize));
            }
        }
        checkNoOverlap(entries, file);
        return new SafetensorsHeader(entries, metadata, dataStart);
    }

    private static Map<String, String> metadata(JsonNode node, Path file) {
        if (!node.isObject()) {
            throw new CheckpointException(file + ": " + METADATA_KEY + " must be an object of strings, got "
                    + JsonFields.kind(node));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!field.getValue().isTextual()) {
                throw new CheckpointException(file + ": " + METADATA_KEY + " value '" + field.getKey()
                        + "' must be a string, got " + JsonFields.kind(field.getValue()));
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return metadata;
    }

    private static Entry entry(String name, JsonNode node, Path file, long dataSize) {
        String where = file + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new CheckpointException(where + ": header entry must be an object, got " + JsonFields.kind(node));
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointException(where + ": 'dtype' must be a string, got "
                    + (dtypeNode == null ? "nothing" : JsonFields.kind(dtypeNode)));
        }
        String dtypeName = dtypeNode.textValue();
        long[] shape = longs(node.get("shape"), "shape", -1, where);
        long[] offsets = longs(node.get("data_offsets"), "data_offsets", 2, where);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataSize) {
            throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end
                    + "] are outside the data section [0, " + dataSize + "] or reversed");
        }
        SafetensorsDtype dtype = SafetensorsDtype.byName(dtypeName).orElse(null);
        if (dtype != null) {
            long expected;
            try {
                expected = dtype.bytes;
                for (long d : shape) {
                    expected = Math.multiplyExact(expected, d);
                }
            } catch (ArithmeticException e) {
                throw new CheckpointException(where + ": shape " + Arrays.toString(shape)
                        + " overflows a 64-bit byte count", e);
            }
            if (end - begin != expected) {
                throw new CheckpointException(where + ": data_offsets span " + (end - begin) + " bytes but "
                        + dtypeName + " with shape " + Arrays.toString(shape) + " needs " + expected);
            }
        }
        return new Entry(new TensorInfo(name, dtypeName, shape, file), dtype, begin, end);
    }

    /** A JSON list of non-negative integers ({@code length} of them unless it is -1). */
    private static long[] longs(JsonNode node, String key, int length, String where) {
        if (node == null || !node.isArray()) {
            throw new CheckpointException(where + ": '" + key + "' must be a list of non-negative integers, got "
                    + (node == null ? "nothing" : JsonFields.kind(node)));
        }
        if (length >= 0 && node.size() != length) {
            throw new CheckpointException(where + ": '" + key + "' must have " + length + " elements, got "
                    + node.size());
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode element = node.get(i);
            if (!element.isIntegralNumber() || !element.canConvertToLong() || element.longValue() < 0) {
                throw new CheckpointException(where + ": '" + key + "' must be a list of non-negative integers, "
                        + "found " + JsonFields.kind(element));
            }
            values[i] = element.longValue();
        }
        return values;
    }

    /** Two tensors that share bytes would alias each other's weights: refuse the file. */
    private static void checkNoOverlap(Map<String, Entry> entries, Path file) {
        List<Entry> ranges = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.byteLength() > 0) {
                ranges.add(e);
            }
        }
        ranges.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < ranges.size(); i++) {
            Entry previous = ranges.get(i - 1);
            Entry current = ranges.get(i);
            if (current.begin() < previous.end()) {
                throw new CheckpointException(file + ": tensors '" + previous.info().name() + "' [" + previous.begin()
                        + ", " + previous.end() + ") and '" + current.info().name() + "' [" + current.begin() + ", "
                        + current.end() + ") overlap in the data section");
            }
        }
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new EOFException("unexpected end of file at byte " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }
}
