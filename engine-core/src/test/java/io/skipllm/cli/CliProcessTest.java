package io.skipllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI as a separate JVM, as scripts use it: exit codes, the single {@code error: } line, no stack
 * trace without {@code --debug}, nothing on stdout when a command fails.
 */
class CliProcessTest {

    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m"));
        // JDK 24+ warns on stderr when a library loads native code or uses sun.misc.Unsafe (JavaCPP does both);
        // the jar's manifest enables native access, these flags do it for a class path
        if (Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        if (Runtime.version().feature() >= 23) {
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "CLI did not finish");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private static void assertBadInput(Run r, String fragment) {
        assertEquals(2, r.code(), r.err());
        assertEquals("", r.out());
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains(fragment), r.err());
    }

    @Test
    void mainErrorPathsExitWithTheDocumentedCodes(@TempDir Path tmp) throws Exception {
        Run ok = cli("plan", "--layers", "30", "--speedup", "5");
        assertEquals(0, ok.code(), ok.err());
        assertEquals("{\"strategy\":\"unified\",\"layers\":30,\"speedup\":5.0,\"retained\":[0,6,12,18,24,29]}", ok.out().trim());

        assertBadInput(cli("plan", "--layers", "30", "--speedup", "0"), "speedup must be >= 1");
        assertBadInput(cli("frobnicate"), "unknown command");
        assertBadInput(cli("logits", "--model", tmp.resolve("missing").toString(), "--prompt-ids", "1"), "missing");

        Path broken = Files.createDirectories(tmp.resolve("broken"));
        Files.writeString(broken.resolve("config.json"), "{\"architectures\": [\"GPT2LMHeadModel\"]}");
        assertBadInput(cli("logits", "--model", broken.toString(), "--prompt-ids", "1"), "GPT2LMHeadModel");

        String fixture = ".." + File.separator + Path.of("models", "reference", "fixtures", "bloom-f32");
        assertBadInput(cli("logits", "--model", fixture, "--prompt-ids", "1,64"), "outside the vocabulary");
        // without --model: the shipped model (vocabulary 4096) loads in a fresh process and validates ids
        assertBadInput(cli("generate", "--prompt-ids", "1,5000"), "outside the model's vocabulary (0..4095)");
        assertBadInput(cli("generate", "--model", fixture, "--prompt-ids", "1,2", "--top-p", "1.5"), "top");

        Run debug = cli("plan", "--layers", "0", "--speedup", "2", "--debug");
        assertEquals(2, debug.code());
        assertTrue(debug.err().contains("at io.skipllm."), "--debug prints the stack trace");
        assertFalse(cli("plan", "--layers", "0", "--speedup", "2").err().contains("at io.skipllm."));
    }
}
