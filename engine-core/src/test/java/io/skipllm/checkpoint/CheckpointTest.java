package io.skipllm.checkpoint;

import static io.skipllm.checkpoint.SafetensorsFileTest.expectError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.skipllm.model.BloomConfig;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.ModelConfig;
import io.skipllm.model.bloom.BloomWeights;
import io.skipllm.model.llama.LlamaWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening checkpoint directories, including the committed PyTorch reference fixtures. */
class CheckpointTest {

    static final Path FIXTURES = Path.of("..", "models", "reference", "fixtures");

    @TempDir
    Path dir;

    @Test
    void opensConfigTensorsAndTokenizer() throws IOException {
        Path ckpt = TinyCheckpoints.write(dir.resolve("m"), TinyCheckpoints.llamaConfig(true, false),
                TinyCheckpoints.llamaTensors(true, false, 1));
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            assertEquals(ckpt, c.directory());
            assertInstanceOf(LlamaConfig.class, c.config());
            assertTrue(c.tensors().contains("model.embed_tokens.weight"));
            assertFalse(c.tokenizerJson().isPresent());
        }
        Files.writeString(ckpt.resolve("tokenizer.json"), "{}");
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            assertEquals(ckpt.resolve("tokenizer.json"), c.tokenizerJson().orElseThrow());
        }
    }

    @Test
    void missingDirectoryConfigOrWeightsAreClearErrors() throws IOException {
        expectError(() -> Checkpoint.open(dir.resolve("nope")), "nope", "not found");
        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        expectError(() -> Checkpoint.open(file), "file.txt", "not a directory");
        Path noConfig = Files.createDirectories(dir.resolve("noconfig"));
        new SafetensorsWriter().f32("w", new float[] {1}, 1).write(noConfig.resolve("model.safetensors"));
        expectError(() -> Checkpoint.open(noConfig), "noconfig", "config.json");
        Path noWeights = Files.createDirectories(dir.resolve("noweights"));
        Files.writeString(noWeights.resolve("config.json"), TinyCheckpoints.bloomConfig());
        expectError(() -> Checkpoint.open(noWeights), "noweights", "model.safetensors");
    }

    /** Every committed reference fixture opens and loads (the logits themselves are checked elsewhere). */
    @Test
    void referenceFixturesLoad() throws IOException {
        assumeTrue(Files.isDirectory(FIXTURES), "reference fixtures not present");
        List<Path> fixtures;
        try (Stream<Path> list = Files.list(FIXTURES)) {
            fixtures = list.filter(p -> Files.isRegularFile(p.resolve("config.json"))).sorted().toList();
        }
        assertFalse(fixtures.isEmpty());
        for (Path fixture : fixtures) {
            try (Checkpoint c = Checkpoint.open(fixture)) {
                ModelConfig config = c.config();
                assertEquals(6, config.numLayers(), fixture.toString());
                assertEquals(List.of(2), config.eosTokenIds(), fixture.toString());
                if (config instanceof LlamaConfig llama) {
                    LlamaWeights w = LlamaWeights.load(llama, c.tensors());
                    assertEquals(6, w.layers().size());
                    assertEquals(llama.tieWordEmbeddings(), w.lmHead() == w.embedTokens(), fixture.toString());
                } else {
                    BloomWeights w = BloomWeights.load((BloomConfig) config, c.tensors());
                    assertEquals(6, w.layers().size());
                }
            }
        }
    }
}
