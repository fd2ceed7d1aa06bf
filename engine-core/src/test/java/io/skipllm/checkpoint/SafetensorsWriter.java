package io.skipllm.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A minimal safetensors writer for tests, independent of the reader under test: it lays out the file by
 * the format's documentation (8-byte little-endian header length, JSON header, data section) and can
 * also write deliberately broken files. Public so that other packages' tests can write tiny checkpoints.
 */
public final class SafetensorsWriter {

    private record Tensor(String name, String dtype, long[] shape, byte[] data) {
    }

    private final List<Tensor> tensors = new ArrayList<>();

    public SafetensorsWriter f32(String name, float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return raw(name, "F32", shape, b.array());
    }

    SafetensorsWriter f16(String name, short[] bits, long... shape) {
        return raw(name, "F16", shape, shorts(bits));
    }

    SafetensorsWriter bf16(String name, short[] bits, long... shape) {
        return raw(name, "BF16", shape, shorts(bits));
    }

    SafetensorsWriter raw(String name, String dtype, long[] shape, byte[] data) {
        tensors.add(new Tensor(name, dtype, shape.clone(), data.clone()));
        return this;
    }

    /** The header JSON with offsets laid out back to back, plus a {@code __metadata__} entry. */
    String header() {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Tensor t : tensors) {
            json.append(",\"").append(t.name).append("\":{\"dtype\":\"").append(t.dtype).append("\",\"shape\":")
                    .append(Arrays.stream(t.shape).mapToObj(Long::toString).collect(Collectors.joining(",", "[", "]")))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + t.data.length)
                    .append("]}");
            offset += t.data.length;
        }
        return json.append('}').toString();
    }

    byte[] data() {
        ByteBuffer b = ByteBuffer.allocate(tensors.stream().mapToInt(t -> t.data.length).sum());
        tensors.forEach(t -> b.put(t.data));
        return b.array();
    }

    public Path write(Path file) throws IOException {
        return write(file, header(), data());
    }

    /** A file with this exact header text and data section (for corrupted files). */
    static Path write(Path file, String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return write(file, json.length, json, data);
    }

    /** A file whose length field says {@code declaredLength}, whatever follows. */
    static Path write(Path file, long declaredLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header).put(data);
        Files.write(file, b.array());
        return file;
    }

    static byte[] shorts(short[] bits) {
        ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : bits) {
            b.putShort(s);
        }
        return b.array();
    }
}
