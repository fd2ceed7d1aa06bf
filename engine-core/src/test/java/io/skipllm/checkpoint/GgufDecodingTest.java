package io.skipllm.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The GGUF block decoders against llama.cpp's gguf-py on the fixtures' quantized tensors
 * (llamacpp/dequantized.json, from engine-bench/scripts/gguf/dump_dequantized.py), and the formats the
 * tensors are held in.
 */
class GgufDecodingTest {

    @Test
    void quantizedRowsDecodeToGgufPysValues() throws IOException {
        JsonNode all = new ObjectMapper().readTree(GgufLlamaCppTest.DIR.resolve("llamacpp/dequantized.json").toFile());
        int checked = 0;
        for (Iterator<Map.Entry<String, JsonNode>> files = all.fields(); files.hasNext(); ) {
            Map.Entry<String, JsonNode> file = files.next();
            try (GgufFile gguf = GgufFile.open(GgufLlamaCppTest.DIR.resolve(file.getKey()))) {
                GgufTensorStore store = new GgufTensorStore(gguf, null);
                for (Iterator<Map.Entry<String, JsonNode>> tensors = file.getValue().fields(); tensors.hasNext(); ) {
                    Map.Entry<String, JsonNode> tensor = tensors.next();
                    String name = GgufTensorStore.hfName(tensor.getKey());
                    long[] shape = store.info(name).shape();
                    assertEquals(tensor.getValue().get("type").asText(), store.info(name).dtype());
                    try (Weight w = store.loadWeight(name, WeightFormat.F32, shape[0], shape[1])) {
                        float[] row = new float[(int) shape[1]];
                        for (int r = 0; r < 2; r++) {
                            w.row(r, row, 0);
                            JsonNode want = tensor.getValue().get("rows").get(r);
                            for (int i = 0; i < row.length; i++) {
                                float expected = (float) want.get(i).asDouble();
                                assertEquals(expected, row[i], 1e-6f * Math.max(1, Math.abs(expected)),
                                        file.getKey() + " " + tensor.getKey() + " row " + r + " col " + i);
                            }
                        }
                    }
                    checked++;
                }
            }
        }
        assertTrue(checked >= 8, "checked " + checked + " tensors");
    }

    @Test
    void tensorsAreHeldInTheNearestFormatTheKernelsTake() {
        try (GgufFile q4 = GgufFile.open(GgufLlamaCppTest.DIR.resolve("llama-spm-q4_0.gguf"));
                GgufFile k = GgufFile.open(GgufLlamaCppTest.DIR.resolve("llama-spm256-q4_k_m.gguf"))) {
            GgufTensorStore q4Store = new GgufTensorStore(q4, null);
            assertEquals(WeightFormat.Q4_0, q4Store.storedFormat("model.embed_tokens.weight"));
            assertEquals(WeightFormat.Q8_0, q4Store.storedFormat("lm_head.weight"));
            assertEquals(WeightFormat.F32, q4Store.storedFormat("model.norm.weight"));
            GgufTensorStore kStore = new GgufTensorStore(k, null);
            assertEquals("Q6_K", kStore.info("lm_head.weight").dtype());
            assertEquals(WeightFormat.Q8_0, kStore.storedFormat("lm_head.weight"));
            assertEquals(WeightFormat.Q8_0, kStore.storedFormat("model.embed_tokens.weight"));
        }
    }

    @Test
    void rotaryRowsOfLlamaFilesArePutBackInHuggingFaceOrder() {
        try (GgufFile file = GgufFile.open(GgufLlamaCppTest.DIR.resolve("llama-spm-f32.gguf"))) {
            GgufTensorStore plain = new GgufTensorStore(file, null);
            // head size 16, 4 query heads, 2 key/value heads
            GgufTensorStore unpermuted = new GgufTensorStore(file, new int[] {16, 4, 2});
            String q = "model.layers.0.self_attn.q_proj.weight";
            try (Weight stored = plain.loadWeight(q, null, 64, 64); Weight hf = unpermuted.loadWeight(q, null, 64, 64)) {
                float[] a = new float[64];
                float[] b = new float[64];
                // Hugging Face row (head 1, s * 8 + j) is the file's row (head 1, 2j + s)
                for (int[] rows : new int[][] {{16 + 0, 16 + 0}, {16 + 8, 16 + 1}, {16 + 3, 16 + 6}, {16 + 11, 16 + 7}}) {
                    hf.row(rows[0], a, 0);
                    stored.row(rows[1], b, 0);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(b, a);
                }
            }
            String v = "model.layers.0.self_attn.v_proj.weight";
            try (Weight stored = plain.loadWeight(v, null, 32, 64); Weight same = unpermuted.loadWeight(v, null, 32, 64)) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(stored.toFloats(), same.toFloats());
            }
        }
    }
}
