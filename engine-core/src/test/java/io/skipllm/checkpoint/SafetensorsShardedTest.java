package io.skipllm.checkpoint;

import static io.skipllm.checkpoint.SafetensorsFileTest.expectError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints split by model.safetensors.index.json, and the directory-level choice of layout. */
class SafetensorsShardedTest {

    static final String SHARD1 = "model-00001-of-00002.safetensors";
    static final String SHARD2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;

    @BeforeEach
    void writeShards() throws IOException {
        new SafetensorsWriter().f32("a", new float[] {1, 2}, 2).f32("b", new float[] {3}, 1)
                .write(dir.resolve(SHARD1));
        new SafetensorsWriter().f32("c", new float[] {4, 5, 6}, 3).write(dir.resolve(SHARD2));
    }

    @Test
    void twoShardsActAsOneStore() throws IOException {
        index("\"a\": \"" + SHARD1 + "\", \"b\": \"" + SHARD1 + "\", \"c\": \"" + SHARD2 + "\"");
        try (TensorStore store = TensorStore.open(dir)) {
            assertEquals(Set.of("a", "b", "c"), store.names());
            assertTrue(store.contains("c"));
            assertFalse(store.contains("d"));
            assertEquals(dir.resolve(SHARD2), store.info("c").file());
            assertArrayEquals(new float[] {1, 2}, store.loadFloat("a", 2).toFloatVector());
            assertArrayEquals(new float[] {4, 5, 6}, store.loadFloat("c", 3).toFloatVector());
            expectError(() -> store.loadFloat("c", 4), SHARD2, "'c'", "[3]", "[4]");
            expectError(() -> store.loadFloat("d", 1), "model.safetensors.index.json", "'d'");
        }
    }

    @Test
    void indexNamingAMissingShardIsRejected() throws IOException {
        index("\"a\": \"" + SHARD1 + "\", \"c\": \"model-00003-of-00003.safetensors\"");
        expectError(() -> TensorStore.open(dir), "model.safetensors.index.json", "model-00003-of-00003.safetensors",
                "does not exist");
    }

    @Test
    void pathTraversalInShardNameIsRejected() throws IOException {
        Path outside = dir.resolve("outside.safetensors");
        new SafetensorsWriter().f32("x", new float[] {1}, 1).write(outside);
        Path sub = Files.createDirectories(dir.resolve("ckpt"));
        Files.writeString(sub.resolve(TensorStore.SHARD_INDEX),
                "{\"weight_map\": {\"x\": \"../outside.safetensors\"}}");
        expectError(() -> TensorStore.open(sub), "model.safetensors.index.json", "'x'", "../outside.safetensors");
        Files.writeString(sub.resolve(TensorStore.SHARD_INDEX),
                "{\"weight_map\": {\"x\": \"" + outside.toAbsolutePath() + "\"}}");
        expectError(() -> TensorStore.open(sub), "model.safetensors.index.json", "'x'");
    }

    @Test
    void tensorListedInTheWrongShardIsRejected() throws IOException {
        index("\"a\": \"" + SHARD1 + "\", \"c\": \"" + SHARD1 + "\"");
        expectError(() -> TensorStore.open(dir), "model.safetensors.index.json", "'c'", SHARD1);
    }

    @Test
    void malformedIndexIsRejected() throws IOException {
        Files.writeString(dir.resolve(TensorStore.SHARD_INDEX), "{\"metadata\": {}}");
        expectError(() -> TensorStore.open(dir), "model.safetensors.index.json", "weight_map");
        Files.writeString(dir.resolve(TensorStore.SHARD_INDEX), "{\"weight_map\": {\"a\": 1}}");
        expectError(() -> TensorStore.open(dir), "model.safetensors.index.json", "'a'");
        Files.writeString(dir.resolve(TensorStore.SHARD_INDEX), "{\"weight_map\": ");
        expectError(() -> TensorStore.open(dir), "model.safetensors.index.json", "malformed JSON");
    }

    @Test
    void corruptShardIsRejectedWithItsName() throws IOException {
        Files.write(dir.resolve(SHARD2), new byte[] {1, 2});
        index("\"a\": \"" + SHARD1 + "\", \"c\": \"" + SHARD2 + "\"");
        expectError(() -> TensorStore.open(dir), SHARD2, "too short");
    }

    @Test
    void singleFileIsPreferredOverAnIndex() throws IOException {
        index("\"a\": \"" + SHARD1 + "\"");
        new SafetensorsWriter().f32("only", new float[] {7}, 1).write(dir.resolve(TensorStore.SINGLE_FILE));
        try (TensorStore store = TensorStore.open(dir)) {
            assertEquals(Set.of("only"), store.names());
        }
    }

    @Test
    void directoryWithoutSafetensorsIsRejected() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        expectError(() -> TensorStore.open(empty), "empty", "model.safetensors", "model.safetensors.index.json");
        Files.write(empty.resolve("pytorch_model.bin"), new byte[4]);
        expectError(() -> TensorStore.open(empty), "model.safetensors", "PyTorch");
    }

    private void index(String weightMap) throws IOException {
        Files.writeString(dir.resolve(TensorStore.SHARD_INDEX),
                "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {" + weightMap + "}}");
    }
}
