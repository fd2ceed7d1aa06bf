package io.skipllm.checkpoint;

import io.skipllm.weights.HalfFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Reading single safetensors files: exact values for each float dtype, and every kind of corruption. */
class SafetensorsFileTest {

    @TempDir
    Path dir;

    @Test
    void f32RoundTripsExactlyAsANewCOrderFloatArray() throws IOException {
        float[] values = {1.5f, -2.25f, 0f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, 3.1415927f,
                Float.NEGATIVE_INFINITY, 1e-30f, 7f, 8f, 9f};
        Path file = new SafetensorsWriter().f32("w", values, 3, 4).write(dir.resolve("a.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            INDArray a = st.loadFloat("w", 3, 4);
            assertEquals(DataType.FLOAT, a.dataType());
            assertEquals('c', a.ordering());
            assertArrayEquals(new long[] {3, 4}, a.shape());
            assertBitsEqual(values, flat(a));
            assertEquals(Map.of("format", "pt"), st.metadata());
        }
    }

    @Test
    void f16WidensExactlyIncludingSubnormalsInfinitiesAndNegativeZero() throws IOException {
        short[] bits = {0x3C00, (short) 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, (short) 0xFC00,
                (short) 0x8000, 0x0000, 0x3555, (short) 0x8001};
        float[] expected = {1f, -2f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, 65504f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, -0f, 0f, 0x1.554p-2f, -0x1p-24f};
        Path file = new SafetensorsWriter().f16("h", bits, 2, 6).write(dir.resolve("h.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertBitsEqual(expected, flat(st.loadFloat("h", 2, 6)));
        }
    }

    @Test
    void f16NaNStaysNaN() throws IOException {
        Path file = new SafetensorsWriter().f16("n", new short[] {0x7E00, (short) 0xFC01}, 2)
                .write(dir.resolve("n.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            float[] v = st.loadFloat("n", 2).toFloatVector();
            assertTrue(Float.isNaN(v[0]) && Float.isNaN(v[1]));
        }
    }

    @Test
    void bf16WidensExactly() throws IOException {
        short[] bits = {0x3F80, (short) 0xC049, 0x0001, (short) 0xFF80, 0x7F7F, (short) 0x8000};
        float[] expected = {1f, -3.140625f, 0x1p-133f, Float.NEGATIVE_INFINITY, 0x1.fep127f, -0f};
        Path file = new SafetensorsWriter().bf16("b", bits, 6).write(dir.resolve("b.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertBitsEqual(expected, st.loadFloat("b", 6).toFloatVector());
        }
    }

    @Test
    void headerDescribesTensorsAndIgnoresUnrequestedIntegerTensors() throws IOException {
        Path file = new SafetensorsWriter()
                .raw("position_ids", "I64", new long[] {1, 3}, new byte[24])
                .f32("w", new float[] {1, 2}, 2)
                .write(dir.resolve("m.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(Set.of("position_ids", "w"), st.names());
            assertTrue(st.contains("w"));
            assertFalse(st.contains("x"));
            TensorInfo info = st.info("position_ids");
            assertEquals("I64", info.dtype());
            assertArrayEquals(new long[] {1, 3}, info.shape());
            assertEquals(file, info.file());
            assertArrayEquals(new float[] {1, 2}, st.loadFloat("w", 2).toFloatVector());
            expectError(() -> st.loadFloat("position_ids", 1, 3), "m.safetensors", "position_ids", "I64");
        }
    }

    @Test
    void scalarTensorLoads() throws IOException {
        Path file = new SafetensorsWriter().f32("s", new float[] {4.5f}).write(dir.resolve("s.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(4.5f, st.loadFloat("s").getFloat(0));
        }
    }

    @Test
    void tensorSpanningSeveralMappedRegionsAndChunksDecodesExactly() throws IOException {
        int n = 200_003;
        short[] bits = new short[n];
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            bits[i] = (short) (i * 7919);
            expected[i] = HalfFloats.f16ToFloat(bits[i]);
        }
        Path file = new SafetensorsWriter().f32("pad", new float[] {1}, 1).f16("h", bits, n)
                .write(dir.resolve("regions.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file);
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            assertBitsEqual(expected, flat(st.loadFloat("h", n)));
            long headerLength = Files.size(file) - 4 - 2L * n - 8;
            INDArray small = TensorDecoder.decode(channel, 8 + headerLength + 4, SafetensorsDtype.F16,
                    new long[] {n}, 50_001);
            assertBitsEqual(expected, flat(small));
        }
    }

    /**
     * A sparse file of a little over 3 GiB: one tensor sits past the 2 GiB mark, which a single
     * MappedByteBuffer could not reach.
     */
    @Test
    void tensorBeyondTwoGibibytesLoads() throws IOException {
        long padBytes = 3L << 30;
        float[] values = {1.25f, -8f, 3f, 0.5f};
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + padBytes + "],\"data_offsets\":[0," + padBytes
                + "]},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + padBytes + ","
                + (padBytes + 16) + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(json.length).put(json).flip();
            channel.write(head, 0);
            channel.write(data.flip(), 8 + json.length + padBytes);
        }
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertBitsEqual(values, flat(st.loadFloat("w", 2, 2)));
            expectError(() -> st.loadFloat("pad", padBytes), "big.safetensors", "'pad'", "U8");
        }
    }

    @Test
    void truncatedFileIsRejected() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        expectOpenError(file, "short.safetensors", "too short");
    }

    @Test
    void truncatedDataSectionIsRejected() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().f32("w", new float[] {1, 2, 3, 4}, 4);
        byte[] data = Arrays.copyOf(w.data(), 10);
        Path file = SafetensorsWriter.write(dir.resolve("cut.safetensors"), w.header(), data);
        expectOpenError(file, "cut.safetensors", "'w'");
    }

    @Test
    void headerLengthBeyondFileIsRejected() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Path file = SafetensorsWriter.write(dir.resolve("long.safetensors"), 1000, header, new byte[0]);
        expectOpenError(file, "long.safetensors", "header length 1000");
    }

    @Test
    void hugeHeaderLengthIsRejected() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Path file = SafetensorsWriter.write(dir.resolve("huge.safetensors"), 1L << 62, header, new byte[0]);
        expectOpenError(file, "huge.safetensors", "header length");
        Path negative = SafetensorsWriter.write(dir.resolve("neg.safetensors"), -1L, header, new byte[0]);
        expectOpenError(negative, "neg.safetensors", "18446744073709551615");
    }

    @Test
    void nonJsonHeaderIsRejected() throws IOException {
        Path file = SafetensorsWriter.write(dir.resolve("junk.safetensors"), "not json at all", new byte[0]);
        expectOpenError(file, "junk.safetensors", "malformed JSON");
        Path array = SafetensorsWriter.write(dir.resolve("array.safetensors"), "[1,2]", new byte[0]);
        expectOpenError(array, "array.safetensors", "JSON object");
        Path binary = SafetensorsWriter.write(dir.resolve("bin.safetensors"), 4,
                new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1}, new byte[0]);
        expectOpenError(binary, "bin.safetensors", "UTF-8");
    }

    @Test
    void deeplyNestedHeaderIsRejected() throws IOException {
        String deep = "{\"__metadata__\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        Path file = SafetensorsWriter.write(dir.resolve("deep.safetensors"), deep, new byte[0]);
        expectOpenError(file, "deep.safetensors", "nesting");
    }

    @Test
    void offsetsOutOfRangeAreRejected() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
        Path file = SafetensorsWriter.write(dir.resolve("range.safetensors"), header, new byte[16]);
        expectOpenError(file, "range.safetensors", "'w'", "data_offsets");
        String reversed = "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}";
        Path file2 = SafetensorsWriter.write(dir.resolve("rev.safetensors"), reversed, new byte[16]);
        expectOpenError(file2, "rev.safetensors", "'w'");
        String negative = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}";
        Path file3 = SafetensorsWriter.write(dir.resolve("negoff.safetensors"), negative, new byte[16]);
        expectOpenError(file3, "negoff.safetensors", "'w'", "non-negative");
    }

    @Test
    void overlappingTensorsAreRejected() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        Path file = SafetensorsWriter.write(dir.resolve("overlap.safetensors"), header, new byte[12]);
        expectOpenError(file, "overlap.safetensors", "'a'", "'b'", "overlap");
    }

    @Test
    void byteLengthMustMatchDtypeAndShape() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
        Path file = SafetensorsWriter.write(dir.resolve("len.safetensors"), header, new byte[24]);
        expectOpenError(file, "len.safetensors", "'w'", "needs 12");
        String overflow = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}";
        Path file2 = SafetensorsWriter.write(dir.resolve("ovf.safetensors"), overflow, new byte[0]);
        expectOpenError(file2, "ovf.safetensors", "'w'", "overflow");
    }

    @Test
    void malformedEntriesAreRejected() throws IOException {
        expectOpenError(SafetensorsWriter.write(dir.resolve("e1.safetensors"),
                "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "e1.safetensors", "'w'", "dtype");
        expectOpenError(SafetensorsWriter.write(dir.resolve("e2.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", new byte[4]),
                "e2.safetensors", "'w'", "shape");
        expectOpenError(SafetensorsWriter.write(dir.resolve("e3.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]),
                "e3.safetensors", "'w'", "data_offsets");
        expectOpenError(SafetensorsWriter.write(dir.resolve("e4.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]),
                "e4.safetensors", "'w'", "shape");
        expectOpenError(SafetensorsWriter.write(dir.resolve("e5.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
                "e5.safetensors", "Duplicate");
        expectOpenError(SafetensorsWriter.write(dir.resolve("e6.safetensors"),
                "{\"__metadata__\":[1]}", new byte[0]), "e6.safetensors", "__metadata__");
    }

    @Test
    void unknownDtypeIsAcceptedInTheHeaderButCannotBeLoaded() throws IOException {
        Path file = new SafetensorsWriter().raw("q", "F4", new long[] {4}, new byte[2])
                .f32("w", new float[] {1}, 1).write(dir.resolve("f4.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals("F4", st.info("q").dtype());
            expectError(() -> st.loadFloat("q", 4), "f4.safetensors", "'q'", "F4");
            expectError(() -> st.require("q", 4), "f4.safetensors", "'q'", "F4");
        }
    }

    @Test
    void shapeMismatchNamesFileTensorAndBothShapes() throws IOException {
        Path file = new SafetensorsWriter().f32("w", new float[6], 2, 3).write(dir.resolve("shape.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            expectError(() -> st.loadFloat("w", 3, 2), "shape.safetensors", "'w'", "[2, 3]", "[3, 2]");
            expectError(() -> st.loadFloat("w", 6), "shape.safetensors", "'w'", "[6]");
        }
    }

    @Test
    void missingTensorListsSimilarNames() throws IOException {
        Path file = new SafetensorsWriter().f32("model.norm.weight", new float[2], 2)
                .f32("model.embed_tokens.weight", new float[2], 1, 2)
                .write(dir.resolve("miss.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            expectError(() -> st.loadFloat("model.norm.weights", 2), "miss.safetensors", "'model.norm.weights'",
                    "similar names present: model.norm.weight");
            expectError(() -> st.info("nope"), "miss.safetensors", "'nope'");
        }
    }

    @Test
    void missingFileIsRejected() {
        expectOpenError(dir.resolve("absent.safetensors"), "absent.safetensors", "not found");
    }

    @Test
    void loadingAfterCloseFails() throws IOException {
        Path file = new SafetensorsWriter().f32("w", new float[] {1}, 1).write(dir.resolve("c.safetensors"));
        SafetensorsFile st = SafetensorsFile.open(file);
        st.close();
        st.close();
        assertThrows(IllegalStateException.class, () -> st.loadFloat("w", 1));
    }

    @Test
    void tensorsAreIndependentCopies() throws IOException {
        Path file = new SafetensorsWriter().f32("w", new float[] {1, 2}, 2).write(dir.resolve("copy.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            INDArray a = st.loadFloat("w", 2);
            a.addi(10);
            assertArrayEquals(new float[] {1, 2}, st.loadFloat("w", 2).toFloatVector());
        }
    }

    static void expectOpenError(Path file, String... fragments) {
        expectError(() -> SafetensorsFile.open(file).close(), fragments);
    }

    static CheckpointException expectError(Executable action, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, action);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), () -> "message lacks '" + fragment + "': " + e.getMessage());
        }
        return e;
    }

    /** All elements in c order. */
    static float[] flat(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }
}
