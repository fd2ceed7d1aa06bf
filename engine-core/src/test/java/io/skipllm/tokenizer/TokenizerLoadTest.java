package io.skipllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerLoadTest {

    @TempDir Path dir;

    private static void assertNamesFile(CheckpointException e, Path file) {
        assertTrue(
                e.getMessage().contains(file.getFileName().toString()),
                "message should name " + file + ": " + e.getMessage());
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("missing-tokenizer.json");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizer.load(file));
        assertNamesFile(e, file);
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        // CheckpointException is a BadInputException (CLI exit code 2).
        assertTrue(e instanceof BadInputException);
    }

    @Test
    void truncatedJson() throws IOException {
        Path file = dir.resolve("broken-tokenizer.json");
        String good = Files.readString(TokenizerTestFiles.byteBpe(), StandardCharsets.UTF_8);
        Files.writeString(file, good.substring(0, good.length() / 2), StandardCharsets.UTF_8);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizer.load(file));
        assertNamesFile(e, file);
        assertTrue(e.getMessage().contains("malformed"), e.getMessage());
    }

    @Test
    void emptyFile() throws IOException {
        Path file = dir.resolve("empty-tokenizer.json");
        Files.writeString(file, "");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizer.load(file));
        assertNamesFile(e, file);
    }

    @Test
    void jsonThatIsNoTokenizer() throws IOException {
        Path file = dir.resolve("config-not-tokenizer.json");
        Files.writeString(file, "{\"hidden_size\": 64}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizer.load(file));
        assertNamesFile(e, file);
    }

    @Test
    void unknownModelTypeIsRejectedByTheNativeParser() throws IOException {
        Path file = dir.resolve("odd-tokenizer.json");
        Files.writeString(
                file,
                "{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,"
                        + "\"pre_tokenizer\":null,\"post_processor\":null,\"decoder\":null,"
                        + "\"model\":{\"type\":\"NoSuchModel\",\"vocab\":{\"a\":0}}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizer.load(file));
        assertNamesFile(e, file);
        assertTrue(e.getCause() != null, "the native cause is kept");
    }

    @Test
    void directoryIsNotAFile() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains(dir.getFileName().toString()), e.getMessage());
    }

    @Test
    void loadFromModelDir() throws IOException {
        assertEquals(Optional.empty(), Tokenizer.loadFromModelDir(dir));
        assertEquals(Optional.empty(), Tokenizer.loadFromModelDir(dir.resolve("no-such-dir")));

        Files.copy(TokenizerTestFiles.wordLevel(), dir.resolve("tokenizer.json"));
        Optional<Tokenizer> t = Tokenizer.loadFromModelDir(dir);
        assertTrue(t.isPresent());
        try (Tokenizer tok = t.get()) {
            assertEquals(dir.resolve("tokenizer.json").toAbsolutePath(), tok.source());
            assertEquals("hello world", tok.decode(tok.encode("hello world")));
        }
    }

    @Test
    void malformedTokenizerJsonInModelDirIsAnError() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{ not json");
        CheckpointException e =
                assertThrows(CheckpointException.class, () -> Tokenizer.loadFromModelDir(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void offlineModeIsSetForDjl() {
        Tokenizer.load(TokenizerTestFiles.wordLevel()).close();
        if (System.getenv("DJL_OFFLINE") == null) {
            assertEquals("true", System.getProperty("ai.djl.offline"));
        }
    }
}
