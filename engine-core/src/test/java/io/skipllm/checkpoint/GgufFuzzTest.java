package io.skipllm.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.skipllm.SkipLlmException;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.Model;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.SkipStrategy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of the GGUF fixtures, as {@link CheckpointFuzzTest} does for safetensors: bit flips
 * in the header and anywhere, truncation, lying counts, lengths, dimensions, type ids and offsets. Every
 * case must end in a loaded model (tokenizer included) whose logits are finite, or in the project's own
 * exception with a message; never a JVM crash, a hang or an OutOfMemoryError.
 */
class GgufFuzzTest {

    private static final int CASES = 2000;
    private static final String[] FIXTURES = {"llama-spm-q8_0.gguf", "llama-spm-q4_0.gguf", "qwen2-bpe-f16.gguf"};
    private static final long[] LIES = {0, 1, 2, 3, 31, 255, 1L << 31, 1L << 32, 1L << 40, 1L << 62, -1L, Long.MAX_VALUE};

    @TempDir
    Path work;

    @Test
    @Timeout(900)
    void mutatedGgufFilesLoadCleanlyOrFailWithAClearError() throws IOException {
        byte[][] sources = new byte[FIXTURES.length][];
        long[] dataStarts = new long[FIXTURES.length];
        for (int i = 0; i < FIXTURES.length; i++) {
            Path path = GgufLlamaCppTest.DIR.resolve(FIXTURES[i]);
            sources[i] = Files.readAllBytes(path);
            try (GgufFile f = GgufFile.open(path)) {
                dataStarts[i] = f.dataStart();
            }
        }
        int loaded = 0;
        int refused = 0;
        for (int i = 0; i < CASES; i++) {
            SplittableRandom rng = new SplittableRandom(7000L + i);
            int which = rng.nextInt(FIXTURES.length);
            byte[] file = mutate(sources[which], (int) dataStarts[which], rng);
            Path path = work.resolve("case-" + i + ".gguf");
            Files.write(path, file);
            if (runCase(path, "case " + i + " (" + FIXTURES[which] + ")")) {
                loaded++;
            } else {
                refused++;
            }
            Files.delete(path);
        }
        assertTrue(loaded > 0 && refused > 0, "loaded " + loaded + ", refused " + refused);
    }

    static byte[] mutate(byte[] source, int headerEnd, SplittableRandom rng) {
        byte[] out = source.clone();
        ByteBuffer le = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        switch (rng.nextInt(6)) {
            case 0 -> flip(out, 0, headerEnd, 1 + rng.nextInt(4), rng);
            case 1 -> flip(out, 0, out.length, 1 + rng.nextInt(8), rng);
            case 2 -> {
                return Arrays.copyOf(out, rng.nextInt(out.length));
            }
            case 3 -> le.putLong(8 + 8 * rng.nextInt(2), LIES[rng.nextInt(LIES.length)]);  // tensor or key count
            case 4 -> {
                // a u64 or u32 anywhere in the header (lengths, dimensions, types, offsets) replaced by a lie
                int at = rng.nextInt(Math.max(1, headerEnd - 8));
                long lie = LIES[rng.nextInt(LIES.length)];
                if (rng.nextBoolean()) {
                    le.putLong(at, lie);
                } else {
                    le.putInt(at, (int) lie);
                }
            }
            default -> flip(out, headerEnd, out.length, 1 + rng.nextInt(16), rng);  // weight values
        }
        return out;
    }

    private static void flip(byte[] out, int from, int to, int count, SplittableRandom rng) {
        for (int k = 0; k < count && to > from; k++) {
            int at = from + rng.nextInt(to - from);
            out[at] ^= (byte) (1 << rng.nextInt(8));
        }
    }

    private static boolean runCase(Path file, String label) {
        Model model;
        try {
            model = Model.load(file);
        } catch (SkipLlmException e) {
            assertTrue(e.getMessage() != null && e.getMessage().length() > 10, label + ": unclear message " + e);
            return false;
        } catch (RuntimeException | Error e) {
            fail(label + ": escaped as " + e, e);
            return false;
        }
        try (model) {
            int vocab = model.config().vocabSize();
            int[] prompt = {1 % vocab, 2 % vocab, 3 % vocab};
            if (model.tokenizer().isPresent()) {
                model.tokenizer().get().encode("Y él les dijo: Id.");
            }
            try (DecodeSession s = model.decoder().start(new int[][] {prompt}, 2,
                    LayerSkipPlanner.plan(SkipStrategy.UNIFIED, model.config().numLayers(), 2))) {
                requireFinite(s.logits().toFloatVector(), label);
                requireFinite(s.decode(new int[] {4 % vocab}).toFloatVector(), label);
            }
            return true;
        } catch (SkipLlmException e) {
            assertTrue(e.getMessage() != null && e.getMessage().length() > 10, label + ": unclear message " + e);
            return false;
        } catch (RuntimeException | Error e) {
            fail(label + ": escaped as " + e, e);
            return false;
        }
    }

    private static void requireFinite(float[] logits, String label) {
        for (float v : logits) {
            if (!Float.isFinite(v)) {
                fail(label + ": non-finite logit escaped");
            }
        }
    }
}
