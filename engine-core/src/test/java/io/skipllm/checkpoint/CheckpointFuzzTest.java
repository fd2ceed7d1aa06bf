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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Seeded mutations of valid checkpoints (the reference fixtures): bit flips, truncation, a lying
 * header length, changed offsets, shapes and dtypes, huge values, non-UTF-8 bytes, deep nesting. Every
 * case must end in a loaded model whose logits are finite, or in the project's own exception with a
 * message; never a JVM crash, a hang, or an OutOfMemoryError from a header that lies about sizes.
 */
class CheckpointFuzzTest {

    private static final int CASES = 2000;
    private static final Path FIXTURES = Path.of("..", "models", "reference", "fixtures");
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
    private static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I8", "U8", "I64", "BOOL", "XX", ""};
    private static final String[] NUMBERS = {"0", "-1", "1", "3", "65", "4611686018427387904", "2147483648",
        "99999999999999999999", "1e308", "0.5", "-0.0", "NaN"};

    @TempDir
    Path work;

    @Test
    @Timeout(600)
    void mutatedCheckpointsLoadCleanlyOrFailWithAClearError() throws IOException {
        List<Path> fixtures;
        try (Stream<Path> dirs = Files.list(FIXTURES)) {
            fixtures = dirs.filter(d -> Files.exists(d.resolve("config.json"))).sorted().toList();
        }
        assertTrue(fixtures.size() >= 4, "fixtures missing under " + FIXTURES.toAbsolutePath());
        int loaded = 0;
        int refused = 0;
        for (int i = 0; i < CASES; i++) {
            SplittableRandom rng = new SplittableRandom(1000L + i);
            Path source = fixtures.get(rng.nextInt(fixtures.size()));
            Path dir = Files.createDirectories(work.resolve("case-" + i));
            byte[] weights = Files.readAllBytes(source.resolve("model.safetensors"));
            byte[] config = Files.readAllBytes(source.resolve("config.json"));
            String what;
            if (rng.nextInt(10) < 6) {
                what = "safetensors";
                weights = mutateSafetensors(weights, rng);
            } else {
                what = "config.json";
                config = mutateConfig(config, rng);
            }
            Files.write(dir.resolve("model.safetensors"), weights);
            Files.write(dir.resolve("config.json"), config);
            String label = "case " + i + " (" + source.getFileName() + ", " + what + ")";
            if (runCase(dir, label)) {
                loaded++;
            } else {
                refused++;
            }
            deleteRecursively(dir);
        }
        assertTrue(loaded > 0 && refused > 0, "loaded " + loaded + ", refused " + refused);
    }

    /** True when the mutated checkpoint loaded and decoded to finite logits; false when it was refused. */
    private static boolean runCase(Path dir, String label) {
        Model model;
        try {
            model = Model.load(dir);
        } catch (SkipLlmException e) {
            requireMessage(e, label);
            return false;
        } catch (RuntimeException | Error e) {
            fail(label + ": escaped as " + e, e);
            return false;
        }
        try (model) {
            int layers = model.config().numLayers();
            int vocab = model.config().vocabSize();
            int[] prompt = {1 % vocab, 2 % vocab, 3 % vocab};
            try (DecodeSession s = model.decoder().start(new int[][] {prompt}, 2,
                    LayerSkipPlanner.plan(SkipStrategy.UNIFIED, layers, 2))) {
                requireFinite(s.logits(), label);
                requireFinite(s.decode(new int[] {4 % vocab}), label);
            }
            return true;
        } catch (SkipLlmException e) {
            requireMessage(e, label);
            return false;
        } catch (RuntimeException | Error e) {
            fail(label + ": escaped as " + e, e);
            return false;
        }
    }

    private static void requireMessage(SkipLlmException e, String label) {
        assertTrue(e.getMessage() != null && e.getMessage().length() > 10, label + ": unclear message " + e.getMessage());
    }

    private static void requireFinite(INDArray logits, String label) {
        for (float v : logits.toFloatVector()) {
            if (!Float.isFinite(v)) {
                fail(label + ": non-finite logit escaped");
            }
        }
    }

    static byte[] mutateSafetensors(byte[] file, SplittableRandom rng) {
        byte[] out = file.clone();
        int headerLength = (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        switch (rng.nextInt(7)) {
            case 0 -> flipBits(out, 0, out.length, 1 + rng.nextInt(8), rng);
            case 1 -> flipBits(out, 0, Math.min(out.length, 8 + headerLength), 1 + rng.nextInt(4), rng);
            case 2 -> {
                return Arrays.copyOf(out, rng.nextInt(out.length));
            }
            case 3 -> {
                long lie = switch (rng.nextInt(4)) {
                    case 0 -> 1L << 62;
                    case 1 -> -1L;
                    case 2 -> out.length;
                    default -> rng.nextLong(0, out.length * 2L);
                };
                ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, lie);
            }
            case 4 -> {
                String header = new String(out, 8, headerLength, StandardCharsets.UTF_8);
                String mutated = replaceRandomNumber(header, rng);
                return withHeader(out, headerLength, mutated);
            }
            case 5 -> {
                String header = new String(out, 8, headerLength, StandardCharsets.UTF_8);
                Matcher m = Pattern.compile("\"dtype\":\\s*\"[A-Z0-9]*\"").matcher(header);
                List<int[]> spans = m.results().map(r -> new int[] {r.start(), r.end()}).toList();
                if (!spans.isEmpty()) {
                    int[] span = spans.get(rng.nextInt(spans.size()));
                    header = header.substring(0, span[0]) + "\"dtype\":\"" + DTYPES[rng.nextInt(DTYPES.length)] + "\""
                            + header.substring(span[1]);
                }
                return withHeader(out, headerLength, header);
            }
            default -> flipBits(out, 8 + headerLength, out.length, 1 + rng.nextInt(16), rng);  // weight values
        }
        return out;
    }

    static byte[] mutateConfig(byte[] config, SplittableRandom rng) {
        String text = new String(config, StandardCharsets.UTF_8);
        switch (rng.nextInt(6)) {
            case 0 -> {
                byte[] out = config.clone();
                flipBits(out, 0, out.length, 1 + rng.nextInt(4), rng);
                return out;
            }
            case 1 -> {
                return Arrays.copyOf(config, rng.nextInt(config.length));
            }
            case 2 -> {
                return replaceRandomNumber(text, rng).getBytes(StandardCharsets.UTF_8);
            }
            case 3 -> {
                byte[] out = config.clone();
                out[rng.nextInt(out.length)] = (byte) (0x80 | rng.nextInt(0x80));  // not valid UTF-8 alone
                return out;
            }
            case 4 -> {
                int depth = 1 + rng.nextInt(100_000);
                return ("{\"architectures\":" + "[".repeat(depth) + "]".repeat(depth) + "}").getBytes(StandardCharsets.UTF_8);
            }
            default -> {
                // drop one "key": value pair
                Matcher m = Pattern.compile("\"[a-z_]+\":\\s*[^,}]+,?").matcher(text);
                List<int[]> spans = m.results().map(r -> new int[] {r.start(), r.end()}).toList();
                int[] span = spans.get(rng.nextInt(spans.size()));
                return (text.substring(0, span[0]) + text.substring(span[1])).getBytes(StandardCharsets.UTF_8);
            }
        }
    }

    private static String replaceRandomNumber(String text, SplittableRandom rng) {
        List<int[]> spans = NUMBER.matcher(text).results().map(r -> new int[] {r.start(), r.end()}).toList();
        if (spans.isEmpty()) {
            return text;
        }
        int[] span = spans.get(rng.nextInt(spans.size()));
        return text.substring(0, span[0]) + NUMBERS[rng.nextInt(NUMBERS.length)] + text.substring(span[1]);
    }

    /** The file with a new header text; the declared length follows it, so the data section shifts as a real edit would. */
    private static byte[] withHeader(byte[] file, int oldLength, String header) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[8 + h.length + file.length - 8 - oldLength];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length);
        System.arraycopy(h, 0, out, 8, h.length);
        System.arraycopy(file, 8 + oldLength, out, 8 + h.length, file.length - 8 - oldLength);
        return out;
    }

    private static void flipBits(byte[] data, int from, int to, int count, SplittableRandom rng) {
        if (to <= from) {
            return;
        }
        for (int i = 0; i < count; i++) {
            int at = from + rng.nextInt(to - from);
            data[at] ^= (byte) (1 << rng.nextInt(8));
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
