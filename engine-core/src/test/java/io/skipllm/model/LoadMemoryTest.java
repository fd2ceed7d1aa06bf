package io.skipllm.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.weights.WeightFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The memory check before loading: bytes per format, and the refusal naming needed, available and a format that fits. */
class LoadMemoryTest {

    /** LLaMA-2-7B's shape: 32 layers, hidden 4096, FFN 11008, vocab 32000, untied head. */
    private static final LlamaConfig LLAMA_7B = new LlamaConfig("LlamaForCausalLM", 4096, 11008, 32, 32, 32, 128,
            32000, 4096, 1e-5, 10000.0, false, false, "silu", List.of(2), 1, null);

    @Test
    void sevenBillionWeightsTakeTheirFormatsBytes() {
        List<LoadMemory.TensorShape> shapes = ModelShapes.of(LLAMA_7B, WeightFormat.BF16);
        long parameters = LoadMemory.weightBytes(shapes, WeightFormat.F32) / 4;
        assertTrue(parameters > 6_700_000_000L && parameters < 6_800_000_000L, "parameters " + parameters);
        long bf16 = LoadMemory.weightBytes(shapes, null);   // as stored
        assertTrue(Math.abs(bf16 - 2 * parameters) < 1_000_000, "bf16 " + bf16);
        long q8 = LoadMemory.weightBytes(shapes, WeightFormat.Q8_0);
        // 36 bytes per 32 weights, norms in float32
        assertTrue(Math.abs(q8 - parameters * 36 / 32) < 2_000_000, "q8_0 " + q8);
    }

    @Test
    void tooLargeIsRefusedWithNeededAvailableAndAFormatThatFits() {
        List<LoadMemory.TensorShape> shapes = ModelShapes.of(LLAMA_7B, WeightFormat.BF16);
        long available = 20_000_000_000L;
        LoadMemory.ModelTooLargeException e = assertThrows(LoadMemory.ModelTooLargeException.class,
                () -> LoadMemory.requireFits("7b", shapes, WeightFormat.F32, available));
        assertEquals(available, e.availableBytes());
        assertTrue(e.neededBytes() > 26_000_000_000L, e.getMessage());
        assertTrue(e.getMessage().contains("as f32") && e.getMessage().contains("--weights bf16"), e.getMessage());
        assertDoesNotThrow(() -> LoadMemory.requireFits("7b", shapes, WeightFormat.BF16, available));
        LoadMemory.ModelTooLargeException small = assertThrows(LoadMemory.ModelTooLargeException.class,
                () -> LoadMemory.requireFits("7b", shapes, null, 10_000_000_000L));
        assertTrue(small.getMessage().contains("--weights q8_0"), small.getMessage());
    }

    /** A fake root with {@code proc/meminfo} and, when given, cgroup files; each entry is path, content. */
    private static Path root(Path dir, String... files) throws IOException {
        for (int i = 0; i < files.length; i += 2) {
            Path file = dir.resolve(files[i]);
            Files.createDirectories(file.getParent());
            Files.writeString(file, files[i + 1]);
        }
        return dir;
    }

    @Test
    void availableMemoryIsTheSmallerOfTheMachinesAndTheCgroupsRemainder(@TempDir Path dir) throws IOException {
        String meminfo = "MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n";
        assertEquals(8_000_000L * 1024, LoadMemory.availableBytes(root(dir.resolve("bare"), "proc/meminfo", meminfo)),
                "no cgroup limit: MemAvailable");
        // cgroup v2: limit 4 GB, 3 GB used of which 1 GB page cache (reclaimable): 2 GB left
        assertEquals(2_000_000_000L, LoadMemory.availableBytes(root(dir.resolve("v2"), "proc/meminfo", meminfo,
                "sys/fs/cgroup/memory.max", "4000000000\n", "sys/fs/cgroup/memory.current", "3000000000\n",
                "sys/fs/cgroup/memory.stat", "anon 2000000000\nfile 1000000000\n")));
        // v2 without a limit, and v1 with 3 GB of 5 GB used: the smaller figure, the cgroup's, wins
        assertEquals(8_000_000L * 1024, LoadMemory.availableBytes(root(dir.resolve("unlimited"), "proc/meminfo", meminfo,
                "sys/fs/cgroup/memory.max", "max\n")));
        assertEquals(2_000_000_000L, LoadMemory.availableBytes(root(dir.resolve("v1"), "proc/meminfo", meminfo,
                "sys/fs/cgroup/memory/memory.limit_in_bytes", "5000000000\n",
                "sys/fs/cgroup/memory/memory.usage_in_bytes", "3000000000\n",
                "sys/fs/cgroup/memory/memory.stat", "cache 0\n")));
        assertEquals(Long.MAX_VALUE, LoadMemory.availableBytes(dir.resolve("nothing")), "nothing readable: no bound");
    }
}
