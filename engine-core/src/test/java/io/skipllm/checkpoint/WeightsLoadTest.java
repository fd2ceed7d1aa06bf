package io.skipllm.checkpoint;

import static io.skipllm.checkpoint.SafetensorsFileTest.expectError;
import static io.skipllm.checkpoint.SafetensorsFileTest.flat;
import static io.skipllm.checkpoint.TinyCheckpoints.HEADS;
import static io.skipllm.checkpoint.TinyCheckpoints.HEAD_DIM;
import static io.skipllm.checkpoint.TinyCheckpoints.HIDDEN;
import static io.skipllm.checkpoint.TinyCheckpoints.INTERMEDIATE;
import static io.skipllm.checkpoint.TinyCheckpoints.KV_HEADS;
import static io.skipllm.checkpoint.TinyCheckpoints.LAYERS;
import static io.skipllm.checkpoint.TinyCheckpoints.VOCAB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.skipllm.model.BloomConfig;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.bloom.BloomLayerWeights;
import io.skipllm.model.bloom.BloomWeights;
import io.skipllm.model.llama.LlamaLayerWeights;
import io.skipllm.model.llama.LlamaWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LlamaWeights.load and BloomWeights.load on tiny checkpoints written by the test: every tensor lands
 * where the weights records document it (fused q/k/v and gate/up rows, BLOOM's reordered
 * query_key_value), and a missing or misshapen tensor fails the whole load.
 */
class WeightsLoadTest {

    @TempDir
    Path dir;

    @Test
    void llamaLoadsAndFusesProjections() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.llamaTensors(false, false, 1);
        LlamaWeights w = loadLlama(TinyCheckpoints.llamaConfig(false, false), t);
        assertEquals(LAYERS, w.layers().size());
        assertValues(t, "model.embed_tokens.weight", w.embedTokens());
        assertValues(t, "lm_head.weight", w.lmHead());
        assertValues(t, "model.norm.weight", w.norm());
        assertNotSame(w.embedTokens(), w.lmHead());
        for (int i = 0; i < LAYERS; i++) {
            String p = "model.layers." + i + ".";
            LlamaLayerWeights l = w.layers().get(i);
            assertArrayEquals(new long[] {(HEADS + 2 * KV_HEADS) * HEAD_DIM, HIDDEN}, l.qkvProj().shape());
            assertArrayEquals(concat(t, p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                    p + "self_attn.v_proj.weight"), l.qkvProj().toFloats());
            int q = HEADS * HEAD_DIM;
            int kv = KV_HEADS * HEAD_DIM;
            assertArrayEquals(t.values.get(p + "self_attn.k_proj.weight"),
                    Arrays.copyOfRange(l.qkvProj().toFloats(), q * HIDDEN, (q + kv) * HIDDEN));
            assertNull(l.qkvBias());
            assertArrayEquals(new long[] {2L * INTERMEDIATE, HIDDEN}, l.gateUpProj().shape());
            assertArrayEquals(concat(t, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"), l.gateUpProj().toFloats());
            assertValues(t, p + "self_attn.o_proj.weight", l.oProj());
            assertValues(t, p + "mlp.down_proj.weight", l.downProj());
            assertValues(t, p + "input_layernorm.weight", l.inputLayernorm());
            assertValues(t, p + "post_attention_layernorm.weight", l.postAttentionLayernorm());
        }
    }

    @Test
    void tiedHeadIsTheEmbeddingArrayEvenWhenLmHeadIsStored() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.llamaTensors(true, false, 2);
        LlamaWeights w = loadLlama(TinyCheckpoints.llamaConfig(true, false), t);
        assertSame(w.embedTokens(), w.lmHead());
        t.random("lm_head.weight", VOCAB, HIDDEN);
        LlamaWeights stored = loadLlama(TinyCheckpoints.llamaConfig(true, false), t);
        assertSame(stored.embedTokens(), stored.lmHead());
    }

    @Test
    void qwen2BiasesAreFused() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.llamaTensors(false, true, 3);
        LlamaWeights w = loadLlama(TinyCheckpoints.llamaConfig(false, true), t);
        for (int i = 0; i < LAYERS; i++) {
            String p = "model.layers." + i + ".";
            INDArray bias = w.layers().get(i).qkvBias();
            assertArrayEquals(new long[] {(HEADS + 2 * KV_HEADS) * HEAD_DIM}, bias.shape());
            assertArrayEquals(concat(t, p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias",
                    p + "self_attn.v_proj.bias"), flat(bias));
        }
    }

    @Test
    void missingTensorNamesTensorAndCheckpointAndSimilarNames() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.llamaTensors(false, false, 4)
                .remove("model.layers.1.mlp.up_proj.weight");
        Path ckpt = TinyCheckpoints.write(dir.resolve("m"), TinyCheckpoints.llamaConfig(false, false), t);
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            expectError(() -> LlamaWeights.load((LlamaConfig) c.config(), c.tensors()), "model.safetensors",
                    ckpt.toString(), "'model.layers.1.mlp.up_proj.weight'", "model.layers.0.mlp.up_proj.weight");
        }
    }

    @Test
    void missingUntiedHeadIsAnError() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.llamaTensors(false, false, 5).remove("lm_head.weight");
        Path ckpt = TinyCheckpoints.write(dir.resolve("m"), TinyCheckpoints.llamaConfig(false, false), t);
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            expectError(() -> LlamaWeights.load((LlamaConfig) c.config(), c.tensors()), "model.safetensors",
                    "lm_head.weight", "tie_word_embeddings");
        }
    }

    @Test
    void missingBiasForQwen2IsAnError() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.llamaTensors(false, false, 6);
        Path ckpt = TinyCheckpoints.write(dir.resolve("m"), TinyCheckpoints.llamaConfig(false, true), t);
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            expectError(() -> LlamaWeights.load((LlamaConfig) c.config(), c.tensors()), "model.safetensors",
                    "self_attn.q_proj.bias");
        }
    }

    @Test
    void wrongShapeNamesTensorAndShapes() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.llamaTensors(false, false, 7)
                .random("model.layers.0.self_attn.k_proj.weight", HEADS * HEAD_DIM, HIDDEN);
        Path ckpt = TinyCheckpoints.write(dir.resolve("m"), TinyCheckpoints.llamaConfig(false, false), t);
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            expectError(() -> LlamaWeights.load((LlamaConfig) c.config(), c.tensors()), "model.safetensors",
                    "'model.layers.0.self_attn.k_proj.weight'", "[8, 8]", "[4, 8]");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "transformer."})
    void bloomLoadsWithAndWithoutPrefix(String prefix) throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.bloomTensors(prefix, 8);
        t.random("lm_head.weight", VOCAB, HIDDEN); // BLOOM ties its head: a stored one is ignored
        BloomWeights w = loadBloom(t);
        assertEquals(LAYERS, w.layers().size());
        assertValues(t, prefix + "word_embeddings.weight", w.wordEmbeddings());
        assertValues(t, prefix + "word_embeddings_layernorm.weight", w.embeddingLayernormWeight());
        assertValues(t, prefix + "word_embeddings_layernorm.bias", w.embeddingLayernormBias());
        assertValues(t, prefix + "ln_f.weight", w.finalLayernormWeight());
        assertValues(t, prefix + "ln_f.bias", w.finalLayernormBias());
        for (int i = 0; i < LAYERS; i++) {
            String p = prefix + "h." + i + ".";
            BloomLayerWeights l = w.layers().get(i);
            assertValues(t, p + "input_layernorm.weight", l.inputLayernormWeight());
            assertValues(t, p + "input_layernorm.bias", l.inputLayernormBias());
            assertValues(t, p + "self_attention.dense.weight", l.denseWeight());
            assertValues(t, p + "self_attention.dense.bias", l.denseBias());
            assertValues(t, p + "post_attention_layernorm.weight", l.postAttentionLayernormWeight());
            assertValues(t, p + "post_attention_layernorm.bias", l.postAttentionLayernormBias());
            assertValues(t, p + "mlp.dense_h_to_4h.weight", l.fcWeight());
            assertValues(t, p + "mlp.dense_h_to_4h.bias", l.fcBias());
            assertValues(t, p + "mlp.dense_4h_to_h.weight", l.projWeight());
            assertValues(t, p + "mlp.dense_4h_to_h.bias", l.projBias());
            assertArrayEquals(new long[] {3L * HIDDEN, HIDDEN}, l.qkvWeight().shape());
            assertArrayEquals(new long[] {3L * HIDDEN}, l.qkvBias().shape());
        }
    }

    /**
     * A hand-built query_key_value whose every value encodes (head, q/k/v, dim, column): after loading,
     * row {@code j * hidden + h * headDim + d} must hold head h's row d of part j (q=0, k=1, v=2).
     */
    @Test
    void bloomQueryKeyValueIsReorderedFromPerHeadToBlocks() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.bloomTensors("", 9);
        float[] weight = new float[3 * HIDDEN * HIDDEN];
        float[] bias = new float[3 * HIDDEN];
        for (int h = 0; h < HEADS; h++) {
            for (int j = 0; j < 3; j++) {
                for (int d = 0; d < HEAD_DIM; d++) {
                    int hfRow = (h * 3 + j) * HEAD_DIM + d;
                    bias[hfRow] = code(h, j, d, 0);
                    for (int c = 0; c < HIDDEN; c++) {
                        weight[hfRow * HIDDEN + c] = code(h, j, d, c);
                    }
                }
            }
        }
        t.put("h.1.self_attention.query_key_value.weight", weight, 3 * HIDDEN, HIDDEN);
        t.put("h.1.self_attention.query_key_value.bias", bias, 3 * HIDDEN);
        BloomLayerWeights l = loadBloom(t).layers().get(1);
        float[] w = l.qkvWeight().toFloats();
        float[] b = flat(l.qkvBias());
        for (int j = 0; j < 3; j++) {
            for (int h = 0; h < HEADS; h++) {
                for (int d = 0; d < HEAD_DIM; d++) {
                    int row = j * HIDDEN + h * HEAD_DIM + d;
                    assertEquals(code(h, j, d, 0), b[row], "bias row " + row);
                    for (int c = 0; c < HIDDEN; c++) {
                        assertEquals(code(h, j, d, c), w[row * HIDDEN + c], "weight row " + row + " col " + c);
                    }
                }
            }
        }
        // Spot check against the definition: key rows of head 1 come right after all query rows and head 0's keys.
        assertEquals(code(1, 1, 0, 0), w[(HIDDEN + HEAD_DIM) * HIDDEN]);
    }

    @Test
    void bloomMissingOrMisshapenTensorIsAnError() throws IOException {
        TinyCheckpoints.Tensors missing = TinyCheckpoints.bloomTensors("transformer.", 10)
                .remove("transformer.h.1.mlp.dense_4h_to_h.bias");
        Path ckpt = TinyCheckpoints.write(dir.resolve("a"), TinyCheckpoints.bloomConfig(), missing);
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            expectError(() -> BloomWeights.load((BloomConfig) c.config(), c.tensors()), "model.safetensors",
                    "'transformer.h.1.mlp.dense_4h_to_h.bias'", "transformer.h.0.mlp.dense_4h_to_h.bias");
        }
        TinyCheckpoints.Tensors misshapen = TinyCheckpoints.bloomTensors("", 11)
                .random("h.0.self_attention.query_key_value.weight", HIDDEN, 3 * HIDDEN);
        Path ckpt2 = TinyCheckpoints.write(dir.resolve("b"), TinyCheckpoints.bloomConfig(), misshapen);
        try (Checkpoint c = Checkpoint.open(ckpt2)) {
            expectError(() -> BloomWeights.load((BloomConfig) c.config(), c.tensors()), "model.safetensors",
                    "'h.0.self_attention.query_key_value.weight'", "[8, 24]", "[24, 8]");
        }
    }

    @Test
    void f16MatricesStayF16AndBf16NormsAreWidened() throws IOException {
        TinyCheckpoints.Tensors t = TinyCheckpoints.llamaTensors(true, false, 12);
        SafetensorsWriter w = new SafetensorsWriter();
        short[] ones = new short[VOCAB * HIDDEN];
        Arrays.fill(ones, (short) 0x3C00);
        short[] halves = new short[HIDDEN];
        Arrays.fill(halves, (short) 0x3F00);
        t.shapes.forEach((name, shape) -> {
            if (name.equals("model.embed_tokens.weight")) {
                w.f16(name, ones, shape);
            } else if (name.equals("model.norm.weight")) {
                w.bf16(name, halves, shape);
            } else {
                w.f32(name, t.values.get(name), shape);
            }
        });
        Path ckpt = dir.resolve("mixed");
        Files.createDirectories(ckpt);
        Files.writeString(ckpt.resolve("config.json"), TinyCheckpoints.llamaConfig(true, false));
        w.write(ckpt.resolve("model.safetensors"));
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            LlamaWeights weights = LlamaWeights.load((LlamaConfig) c.config(), c.tensors());
            assertEquals(WeightFormat.F16, weights.embedTokens().format());
            assertEquals(1f, weights.embedTokens().toFloats()[3 * HIDDEN + 5]);
            assertEquals(DataType.FLOAT, weights.norm().dataType());
            assertEquals(0.5f, weights.norm().getFloat(7));
        }
    }

    private static float code(int head, int part, int dim, int column) {
        return head * 1000 + part * 100 + dim * 10 + column;
    }

    private LlamaWeights loadLlama(String config, TinyCheckpoints.Tensors t) throws IOException {
        Path ckpt = TinyCheckpoints.write(Files.createTempDirectory(dir, "llama"), config, t);
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            return LlamaWeights.load((LlamaConfig) c.config(), c.tensors());
        }
    }

    private BloomWeights loadBloom(TinyCheckpoints.Tensors t) throws IOException {
        Path ckpt = TinyCheckpoints.write(Files.createTempDirectory(dir, "bloom"), TinyCheckpoints.bloomConfig(), t);
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            return BloomWeights.load((BloomConfig) c.config(), c.tensors());
        }
    }

    private static void assertValues(TinyCheckpoints.Tensors t, String name, INDArray actual) {
        assertEquals(DataType.FLOAT, actual.dataType());
        assertArrayEquals(t.shapes.get(name), actual.shape(), name);
        assertArrayEquals(t.values.get(name), flat(actual), name);
    }

    private static void assertValues(TinyCheckpoints.Tensors t, String name, Weight actual) {
        assertArrayEquals(t.shapes.get(name), actual.shape(), name);
        assertArrayEquals(t.values.get(name), actual.toFloats(), name);
    }

    private static float[] concat(TinyCheckpoints.Tensors t, String... names) {
        return Arrays.stream(names).map(t.values::get)
                .reduce(new float[0], (a, b) -> {
                    float[] r = Arrays.copyOf(a, a.length + b.length);
                    System.arraycopy(b, 0, r, a.length, b.length);
                    return r;
                });
    }
}
