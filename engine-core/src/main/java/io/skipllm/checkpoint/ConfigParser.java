package io.skipllm.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skipllm.model.BloomConfig;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a Hugging Face {@code config.json} (plus the optional {@code generation_config.json} beside it)
 * into a validated {@link LlamaConfig} or {@link BloomConfig}.
 *
 * <p>Validation happens here, once, so that the model code can trust every size: a config that would
 * make the engine misbehave (a head count that does not divide the hidden size, a RoPE scaling scheme
 * the engine does not implement, an activation other than SiLU) is refused with a message naming the
 * file and the key, instead of producing wrong logits later.
 */
public final class ConfigParser {

    /** Configs are a few KB; the cap keeps a corrupt or hostile file from being read into memory. */
    static final long MAX_CONFIG_BYTES = 16L << 20;

    static final String CONFIG_JSON = "config.json";
    static final String GENERATION_CONFIG_JSON = "generation_config.json";

    private static final Logger LOG = LoggerFactory.getLogger(ConfigParser.class);

    private ConfigParser() {
    }

    /**
     * Parses {@code modelDir/config.json}. When {@code modelDir/generation_config.json} exists and sets
     * {@code eos_token_id}, those ids replace the config's, as Hugging Face's {@code generate()} does.
     */
    public static ModelConfig parse(Path modelDir) {
        Path configFile = modelDir.resolve(CONFIG_JSON);
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException(modelDir + ": no " + CONFIG_JSON + " in this directory");
        }
        ModelConfig config = parse(JsonDocuments.readObject(configFile, MAX_CONFIG_BYTES), configFile.toString());
        Path generationFile = modelDir.resolve(GENERATION_CONFIG_JSON);
        if (Files.isRegularFile(generationFile)) {
            JsonFields generation = new JsonFields(JsonDocuments.readObject(generationFile, MAX_CONFIG_BYTES),
                    generationFile.toString());
            if (generation.has("eos_token_id")) {
                List<Integer> eos = generation.tokenIds("eos_token_id");
                LOG.debug("{}: eos_token_id {} overrides {}", generationFile, eos, config.eosTokenIds());
                config = withEosTokenIds(config, eos);
            }
        }
        return config;
    }

    /** Parses config.json text; {@code sourceName} names it in error messages. */
    public static ModelConfig parse(String json, String sourceName) {
        return parse(JsonDocuments.parseObject(json, sourceName), sourceName);
    }

    private static ModelConfig parse(ObjectNode root, String source) {
        JsonFields fields = new JsonFields(root, source);
        SupportedArchitecture architecture = architecture(fields);
        return switch (architecture.family) {
            case LLAMA -> LlamaConfigParser.parse(fields, architecture);
            case BLOOM -> BloomConfigParser.parse(fields, architecture);
        };
    }

    /** {@code architectures[0]}, or the architecture {@code model_type} implies when the list is absent. */
    private static SupportedArchitecture architecture(JsonFields fields) {
        List<String> architectures = fields.optionalStringList("architectures");
        if (!architectures.isEmpty()) {
            String name = architectures.get(0);
            return SupportedArchitecture.byName(name).orElseThrow(() -> new CheckpointException(fields.source()
                    + ": unsupported architecture '" + name + "'; supported: " + SupportedArchitecture.names()));
        }
        String modelType = fields.optionalString("model_type", null);
        if (modelType == null) {
            throw new CheckpointException(fields.source() + ": no 'architectures' and no 'model_type', so the "
                    + "architecture is unknown; supported: " + SupportedArchitecture.names());
        }
        return SupportedArchitecture.byModelType(modelType).orElseThrow(() -> new CheckpointException(
                fields.source() + ": no 'architectures' and unsupported model_type '" + modelType
                        + "'; supported: " + SupportedArchitecture.names()));
    }

    private static ModelConfig withEosTokenIds(ModelConfig config, List<Integer> eos) {
        if (config instanceof LlamaConfig c) {
            return new LlamaConfig(c.architecture(), c.hiddenSize(), c.intermediateSize(), c.numLayers(),
                    c.numHeads(), c.numKvHeads(), c.headDim(), c.vocabSize(), c.maxPositions(), c.rmsNormEps(),
                    c.ropeTheta(), c.tieWordEmbeddings(), c.attentionBias(), c.hiddenAct(), eos, c.bosTokenId(),
                    c.padTokenId());
        }
        BloomConfig c = (BloomConfig) config;
        return new BloomConfig(c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(), c.vocabSize(),
                c.maxPositions(), c.layerNormEps(), eos, c.bosTokenId(), c.padTokenId());
    }

    /** Shared checks of the family parsers. */
    static void requirePositive(JsonFields fields, String key, long value) {
        if (value <= 0) {
            throw fields.error(key, "must be positive, got " + value);
        }
    }

    static void requirePositiveFinite(JsonFields fields, String key, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw fields.error(key, "must be a positive finite number, got " + value);
        }
    }
}
