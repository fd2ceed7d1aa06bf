package io.skipllm.checkpoint;

import static io.skipllm.checkpoint.SafetensorsFileTest.expectError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.model.BloomConfig;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.ModelConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json (and generation_config.json) to typed configs: each architecture, defaults, and refusals. */
class ConfigParserTest {

    static final String LLAMA_GQA = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
             "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
             "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
             "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": false,
             "attention_bias": false, "hidden_act": "silu", "bos_token_id": 128000,
             "eos_token_id": [128001, 128008, 128009], "rope_scaling": null, "torch_dtype": "bfloat16"}
            """;

    @TempDir
    Path dir;

    @Test
    void llamaWithGroupedQueryAttention() {
        LlamaConfig c = llama(LLAMA_GQA);
        assertEquals("LlamaForCausalLM", c.architecture());
        assertEquals(4096, c.hiddenSize());
        assertEquals(14336, c.intermediateSize());
        assertEquals(32, c.numLayers());
        assertEquals(32, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(128256, c.vocabSize());
        assertEquals(8192, c.maxPositions());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(500000.0, c.ropeTheta());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.attentionBias());
        assertEquals("silu", c.hiddenAct());
        assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
        assertEquals(128000, c.bosTokenId());
        assertNull(c.padTokenId());
    }

    @Test
    void llamaDefaults() {
        LlamaConfig c = llama("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100}""");
        assertEquals(4, c.numKvHeads());
        assertEquals(16, c.headDim());
        assertEquals(2048, c.maxPositions());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.attentionBias());
        assertEquals("silu", c.hiddenAct());
        assertEquals(List.of(), c.eosTokenIds());
        assertNull(c.bosTokenId());
        assertNull(c.padTokenId());
    }

    @Test
    void explicitHeadDimNeedNotDivideHidden() {
        LlamaConfig c = llama("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 60, "intermediate_size": 128, "head_dim": 16,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100,
                 "attention_bias": true, "pad_token_id": -1, "eos_token_id": 2}""");
        assertEquals(16, c.headDim());
        assertTrue(c.attentionBias());
        assertNull(c.padTokenId());
        assertEquals(List.of(2), c.eosTokenIds());
    }

    @Test
    void mistral() {
        LlamaConfig c = llama("""
                {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                 "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
                 "max_position_embeddings": 32768, "rope_theta": 1000000.0, "sliding_window": null,
                 "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": false}""");
        assertEquals("MistralForCausalLM", c.architecture());
        assertEquals(8, c.numKvHeads());
        assertEquals(32768, c.maxPositions());
        assertFalse(c.attentionBias());
    }

    @Test
    void mistralSlidingWindowCapsTheContext() {
        LlamaConfig c = llama("""
                {"model_type": "mistral", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 32768,
                 "sliding_window": 4096}""");
        assertEquals("MistralForCausalLM", c.architecture());
        assertEquals(4096, c.maxPositions());
    }

    @Test
    void qwen2AlwaysHasAttentionBiases() {
        LlamaConfig c = llama("""
                {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "intermediate_size": 4864,
                 "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
                 "max_position_embeddings": 32768, "rope_theta": 1000000.0, "rms_norm_eps": 1e-06,
                 "sliding_window": 32768, "use_sliding_window": false, "tie_word_embeddings": true,
                 "bos_token_id": 151643, "eos_token_id": 151643}""");
        assertEquals("Qwen2ForCausalLM", c.architecture());
        assertTrue(c.attentionBias());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(64, c.headDim());
        assertEquals(32768, c.maxPositions());
    }

    @Test
    void bloomWithItsOwnKeyNames() {
        BloomConfig c = bloom("""
                {"architectures": ["BloomForCausalLM"], "n_head": 16, "n_layer": 24, "n_embed": 1024,
                 "vocab_size": 250880, "layer_norm_epsilon": 1e-05, "seq_length": 4096,
                 "max_position_embeddings": 999, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 3,
                 "apply_residual_connection_post_layernorm": false}""");
        assertEquals("BloomForCausalLM", c.architecture());
        assertEquals(16, c.numHeads());
        assertEquals(16, c.numKvHeads());
        assertEquals(24, c.numLayers());
        assertEquals(1024, c.hiddenSize());
        assertEquals(64, c.headDim());
        assertEquals(250880, c.vocabSize());
        assertEquals(4096, c.maxPositions());
        assertEquals(1e-5, c.layerNormEps());
        assertEquals(List.of(2), c.eosTokenIds());
        assertEquals(1, c.bosTokenId());
        assertEquals(3, c.padTokenId());
    }

    @Test
    void bloomWithStandardKeyNamesAndDefaults() {
        BloomConfig c = bloom("""
                {"model_type": "bloom", "num_attention_heads": 3, "num_hidden_layers": 6, "hidden_size": 24,
                 "vocab_size": 64, "max_position_embeddings": 128}""");
        assertEquals(3, c.numHeads());
        assertEquals(6, c.numLayers());
        assertEquals(24, c.hiddenSize());
        assertEquals(128, c.maxPositions());
        assertEquals(1e-5, c.layerNormEps());
        BloomConfig d = bloom("""
                {"architectures": ["BloomForCausalLM"], "n_head": 3, "n_layer": 6, "hidden_size": 24,
                 "vocab_size": 64}""");
        assertEquals(2048, d.maxPositions());
    }

    @Test
    void bloomRefusesConflictingAliasesAndIndivisibleHeads() {
        expectError(() -> parse("""
                {"architectures": ["BloomForCausalLM"], "n_head": 3, "num_attention_heads": 4, "n_layer": 6,
                 "hidden_size": 24, "vocab_size": 64}"""), "config.json", "num_attention_heads", "n_head");
        expectError(() -> parse("""
                {"architectures": ["BloomForCausalLM"], "n_head": 5, "n_layer": 6, "hidden_size": 24,
                 "vocab_size": 64}"""), "config.json", "hidden_size", "n_head");
        expectError(() -> parse("""
                {"architectures": ["BloomForCausalLM"], "n_head": 3, "hidden_size": 24, "vocab_size": 64}"""),
                "config.json", "n_layer", "missing");
    }

    @Test
    void eosAsNumberAsListAndAbsent() {
        String base = """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "eos_token_id": %s}""";
        assertEquals(List.of(7), parse(base.formatted("7")).eosTokenIds());
        assertEquals(List.of(7, 9), parse(base.formatted("[7, 9]")).eosTokenIds());
        assertEquals(List.of(), parse(base.formatted("null")).eosTokenIds());
        expectError(() -> parse(base.formatted("\"7\"")), "config.json", "eos_token_id");
        expectError(() -> parse(base.formatted("[7, \"x\"]")), "config.json", "eos_token_id");
    }

    @Test
    void generationConfigOverridesEosIds() throws IOException {
        write("config.json", LLAMA_GQA);
        write("generation_config.json", "{\"bos_token_id\": 128000, \"eos_token_id\": [128001, 128009]}");
        ModelConfig c = ConfigParser.parse(dir);
        assertEquals(List.of(128001, 128009), c.eosTokenIds());
        write("generation_config.json", "{\"eos_token_id\": 5, \"temperature\": 0.6}");
        assertEquals(List.of(5), ConfigParser.parse(dir).eosTokenIds());
        write("generation_config.json", "{\"temperature\": 0.6}");
        assertEquals(List.of(128001, 128008, 128009), ConfigParser.parse(dir).eosTokenIds());
    }

    @Test
    void generationConfigOverridesBloomEosAndMalformedOneIsAnError() throws IOException {
        write("config.json", """
                {"architectures": ["BloomForCausalLM"], "n_head": 3, "n_layer": 6, "hidden_size": 24,
                 "vocab_size": 64, "eos_token_id": 2}""");
        write("generation_config.json", "{\"eos_token_id\": 4}");
        assertEquals(List.of(4), ConfigParser.parse(dir).eosTokenIds());
        write("generation_config.json", "{\"eos_token_id\": ");
        expectError(() -> ConfigParser.parse(dir), "generation_config.json", "malformed JSON");
        write("generation_config.json", "{\"eos_token_id\": \"four\"}");
        expectError(() -> ConfigParser.parse(dir), "generation_config.json", "eos_token_id");
    }

    @Test
    void missingConfigIsAnError() {
        expectError(() -> ConfigParser.parse(dir), dir.toString(), "config.json");
    }

    @Test
    void unknownArchitectureNamesItAndTheSupportedOnes() {
        CheckpointException e = expectError(() -> parse("""
                {"architectures": ["GPT2LMHeadModel"], "n_embd": 768}"""), "config.json", "GPT2LMHeadModel",
                "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "BloomForCausalLM");
        assertInstanceOf(io.skipllm.BadInputException.class, e);
        expectError(() -> parse("{\"model_type\": \"gpt2\"}"), "config.json", "gpt2", "LlamaForCausalLM");
        expectError(() -> parse("{\"hidden_size\": 8}"), "config.json", "architectures", "LlamaForCausalLM");
        expectError(() -> parse("{\"architectures\": \"LlamaForCausalLM\"}"), "config.json", "architectures");
    }

    @Test
    void malformedJsonIsAnError() {
        expectError(() -> parse("{\"architectures\": [\"LlamaForCausalLM\"], "), "config.json", "malformed JSON");
        expectError(() -> parse("{\"a\": 1} trailing"), "config.json", "malformed JSON");
        expectError(() -> parse("[1, 2]"), "config.json", "JSON object");
        expectError(() -> parse(""), "config.json");
        expectError(() -> parse("{\"a\": 1, \"a\": 2}"), "config.json", "Duplicate");
        expectError(() -> parse("{\"a\": " + "[".repeat(10_000) + "]".repeat(10_000) + "}"), "config.json",
                "nesting");
    }

    @Test
    void nonUtf8FileIsAnError() throws IOException {
        byte[] latin1 = "{\"architectures\": [\"Llama\u00e9\"]}".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(dir.resolve("config.json"), latin1);
        expectError(() -> ConfigParser.parse(dir), "config.json", "UTF-8");
    }

    @Test
    void wrongTypesNameTheKey() {
        String base = """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": %s, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "rms_norm_eps": %s,
                 "tie_word_embeddings": %s}""";
        expectError(() -> parse(base.formatted("\"64\"", "1e-6", "false")), "config.json", "hidden_size",
                "integer", "string");
        expectError(() -> parse(base.formatted("64.5", "1e-6", "false")), "config.json", "hidden_size", "integer");
        expectError(() -> parse(base.formatted("99999999999", "1e-6", "false")), "config.json", "hidden_size");
        expectError(() -> parse(base.formatted("64", "\"small\"", "false")), "config.json", "rms_norm_eps");
        expectError(() -> parse(base.formatted("64", "1e-6", "\"yes\"")), "config.json", "tie_word_embeddings");
        expectError(() -> parse(base.formatted("64", "1e999", "false")), "config.json", "rms_norm_eps");
    }

    @Test
    void missingRequiredKeyIsNamed() {
        expectError(() -> parse("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "vocab_size": 100}"""), "config.json", "intermediate_size", "missing");
    }

    @Test
    void invalidSizesAreRejected() {
        String base = """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": %d, "intermediate_size": 128,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d, "vocab_size": 100,
                 "rms_norm_eps": %s, "rope_theta": %s}""";
        expectError(() -> parse(base.formatted(64, 0, 4, 4, "1e-6", "1e4")), "num_hidden_layers", "positive");
        expectError(() -> parse(base.formatted(-64, 2, 4, 4, "1e-6", "1e4")), "hidden_size", "positive");
        expectError(() -> parse(base.formatted(64, 2, 4, 3, "1e-6", "1e4")), "num_key_value_heads");
        expectError(() -> parse(base.formatted(60, 2, 8, 8, "1e-6", "1e4")), "hidden_size", "divisible");
        expectError(() -> parse(base.formatted(64, 2, 4, 4, "0", "1e4")), "rms_norm_eps");
        expectError(() -> parse(base.formatted(64, 2, 4, 4, "1e-6", "-1")), "rope_theta");
    }

    @Test
    void unsupportedFeaturesAreRefusedNotIgnored() {
        String base = """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, %s}""";
        expectError(() -> parse(base.formatted("\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}")),
                "config.json", "rope_scaling", "not supported");
        expectError(() -> parse(base.formatted("\"hidden_act\": \"gelu\"")), "config.json", "hidden_act", "gelu");
        expectError(() -> parse(base.formatted("\"mlp_bias\": true")), "config.json", "mlp_bias");
    }

    private void write(String name, String text) throws IOException {
        Files.writeString(dir.resolve(name), text);
    }

    private static ModelConfig parse(String json) {
        return ConfigParser.parse(json, "test/config.json");
    }

    private static LlamaConfig llama(String json) {
        return assertInstanceOf(LlamaConfig.class, parse(json));
    }

    private static BloomConfig bloom(String json) {
        return assertInstanceOf(BloomConfig.class, parse(json));
    }
}
