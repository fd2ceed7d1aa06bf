package io.skipllm.model.llama;

import io.skipllm.backend.ForwardBackend;
import io.skipllm.kvcache.HostKvCache;
import io.skipllm.model.CausalLm;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.host.HostAttention;
import io.skipllm.model.host.HostPass;
import io.skipllm.model.host.HostRotary;
import io.skipllm.model.host.LlamaHostPass;
import io.skipllm.model.nd4j.Activations;
import io.skipllm.model.nd4j.CachedAttention;
import io.skipllm.model.nd4j.Embeddings;
import io.skipllm.model.nd4j.ForwardPass;
import io.skipllm.model.nd4j.Linear;
import io.skipllm.model.nd4j.Norms;
import io.skipllm.model.nd4j.RotaryEmbedding;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LLaMA, Mistral and Qwen2 (Hugging Face {@code modeling_llama.py} / {@code modeling_qwen2.py}):
 * pre-RMSNorm blocks, rotary positions, grouped-query attention (with q/k/v biases for Qwen2), SwiGLU
 * MLP, tied or untied LM head.
 */
public final class LlamaModel implements CausalLm {

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final RotaryEmbedding rotary;
    private final CachedAttention attention;

    public LlamaModel(LlamaWeights weights) {
        this.config = weights.config();
        this.weights = weights;
        this.rotary = new RotaryEmbedding(config.headDim(), config.ropeTheta());
        this.attention = new CachedAttention(config.numHeads(), config.numKvHeads(), config.headDim());
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public INDArray embed(int[] ids) {
        return Embeddings.lookup(weights.embedTokens(), ids);
    }

    @Override
    public INDArray attentionBias(INDArray mask, int keyCount) {
        return mask;
    }

    @Override
    public void layer(int layer, INDArray hidden, ForwardPass pass) {
        LlamaLayerWeights w = weights.layers().get(layer);
        INDArray x = Norms.rms(hidden, w.inputLayernorm(), config.rmsNormEps());
        INDArray context = attention.attend(layer, queriesKeysValues(layer, x, pass), pass);
        Linear.accumulate(hidden, context, w.oProj(), null);

        x = Norms.rms(hidden, w.postAttentionLayernorm(), config.rmsNormEps());
        // gate and up in one matmul over the fused [2 * intermediate, hidden] weights: one op call, one
        // long stream of weights
        INDArray gateUp = Linear.apply(x, w.gateUpProj(), null);
        Linear.accumulate(hidden, Activations.siluGateTimesUp(gateUp, config.intermediateSize()), w.downProj(), null);
    }

    @Override
    public void storeKeysValues(int layer, INDArray hidden, ForwardPass pass) {
        INDArray x = Norms.rms(hidden, weights.layers().get(layer).inputLayernorm(), config.rmsNormEps());
        attention.storeOnly(layer, queriesKeysValues(layer, x, pass), pass);
    }

    /**
     * One matmul over the fused q/k/v weights: each token's query, key and value heads side by side,
     * {@code [tokens, heads + 2 kvHeads, headDim]}, queries and keys rotated to their positions.
     */
    private INDArray queriesKeysValues(int layer, INDArray x, ForwardPass pass) {
        LlamaLayerWeights w = weights.layers().get(layer);
        INDArray qkv = Linear.apply(x, w.qkvProj(), w.qkvBias())
                .reshape('c', true, pass.tokens(), config.numHeads() + 2L * config.numKvHeads(), config.headDim());
        rotary.applyInPlace(qkv, pass.rotary(), config.numHeads() + config.numKvHeads());
        return qkv;
    }

    @Override
    public RotaryEmbedding.Tables rotaryTables(int[] positions) {
        return rotary.tables(positions);
    }

    @Override
    public INDArray logits(INDArray hidden) {
        return Linear.apply(Norms.rms(hidden, weights.norm(), config.rmsNormEps()), weights.lmHead(), null);
    }

    @Override
    public long layerWeightBytes() {
        return weights.layers().get(0).bytes();
    }

    @Override
    public long headWeightBytes() {
        return weights.norm().length() * Float.BYTES + weights.lmHead().bytes();
    }

    @Override
    public String weightFormat() {
        return weights.lmHead().format().label();
    }

    @Override
    public HostPass openHostPass(HostKvCache cache, int maxRows) {
        if (backend() != ForwardBackend.HOST) {
            throw new IllegalStateException("this network was loaded for the nd4j forward pass");
        }
        return new LlamaHostPass(config, weights, new HostRotary(config.headDim(), config.ropeTheta()),
                HostAttention.over(cache, config.numHeads(), config.numKvHeads(), config.headDim(), null), maxRows);
    }

    @Override
    public ForwardBackend backend() {
        return weights.lmHead().onHost() ? ForwardBackend.HOST : ForwardBackend.ND4J;
    }

    @Override
    public void close() {
        weights.close();
    }
}
