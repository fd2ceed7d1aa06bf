package io.skipllm.model.bloom;

import io.skipllm.backend.ForwardBackend;
import io.skipllm.kvcache.HostKvCache;
import io.skipllm.model.BloomConfig;
import io.skipllm.model.CausalLm;
import io.skipllm.model.NativeArrays;
import io.skipllm.model.host.BloomHostPass;
import io.skipllm.model.host.HostAttention;
import io.skipllm.model.host.HostPass;
import io.skipllm.model.layers.Alibi;
import io.skipllm.model.nd4j.Activations;
import io.skipllm.model.nd4j.CachedAttention;
import io.skipllm.model.nd4j.Embeddings;
import io.skipllm.model.nd4j.ForwardPass;
import io.skipllm.model.nd4j.Linear;
import io.skipllm.model.nd4j.Norms;
import io.skipllm.model.nd4j.RotaryEmbedding;
import io.skipllm.weights.Weight;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * BLOOM (Hugging Face {@code modeling_bloom.py}): LayerNorm after the embedding, pre-LayerNorm blocks
 * with biases everywhere, ALiBi instead of position embeddings, multi-head attention, GELU (tanh
 * approximation) MLP, LM head tied to the word embeddings. The residual is taken before the norm
 * ({@code apply_residual_connection_post_layernorm = false}, as every released BLOOM sets it).
 */
public final class BloomModel implements CausalLm {

    private final BloomConfig config;
    private final BloomWeights weights;
    private final CachedAttention attention;
    private final double[] alibiSlopes;
    /** ALiBi bias of the longest key length so far, {@code [1, heads, 1, 1, keys]}; see {@link #alibiFor}. */
    private final AtomicReference<INDArray> alibi = new AtomicReference<>();

    public BloomModel(BloomWeights weights) {
        this.config = weights.config();
        this.weights = weights;
        this.attention = new CachedAttention(config.numHeads(), config.numHeads(), config.headDim());
        this.alibiSlopes = Alibi.slopes(config.numHeads());
    }

    @Override
    public BloomConfig config() {
        return config;
    }

    @Override
    public INDArray embed(int[] ids) {
        INDArray rows = Embeddings.lookup(weights.wordEmbeddings(), ids);
        return Norms.layer(rows, weights.embeddingLayernormWeight(), weights.embeddingLayernormBias(),
                config.layerNormEps());
    }

    @Override
    public INDArray attentionBias(INDArray mask, int keyCount) {
        return mask.add(alibiFor(keyCount));
    }

    /**
     * The ALiBi bias over {@code keyCount} key slots: a view of the longest bias built so far, which
     * depends on the slot only, so decode steps reuse it instead of rebuilding it from Java on every
     * step. It grows with the longest request seen, not with the configured context (a config may
     * claim a context far larger than any request).
     */
    private INDArray alibiFor(int keyCount) {
        INDArray longest = alibi.get();
        if (longest == null || longest.size(4) < keyCount) {
            try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                longest = Alibi.bias(alibiSlopes, keyCount);
            }
            alibi.set(longest);  // a shorter one still in use elsewhere is left to the garbage collector
        }
        return longest.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.interval(0, keyCount));
    }

    @Override
    public RotaryEmbedding.Tables rotaryTables(int[] positions) {
        return null;
    }

    @Override
    public void layer(int layer, INDArray hidden, ForwardPass pass) {
        BloomLayerWeights w = weights.layers().get(layer);
        double eps = config.layerNormEps();

        INDArray x = Norms.layer(hidden, w.inputLayernormWeight(), w.inputLayernormBias(), eps);
        INDArray context = attention.attend(layer, queriesKeysValues(layer, x, pass), pass);
        Linear.accumulate(hidden, context, w.denseWeight(), w.denseBias());

        x = Norms.layer(hidden, w.postAttentionLayernormWeight(), w.postAttentionLayernormBias(), eps);
        INDArray h = Linear.apply(x, w.fcWeight(), w.fcBias());
        Activations.geluTanh(h);
        Linear.accumulate(hidden, h, w.projWeight(), w.projBias());
    }

    @Override
    public void storeKeysValues(int layer, INDArray hidden, ForwardPass pass) {
        BloomLayerWeights w = weights.layers().get(layer);
        INDArray x = Norms.layer(hidden, w.inputLayernormWeight(), w.inputLayernormBias(), config.layerNormEps());
        attention.storeOnly(layer, queriesKeysValues(layer, x, pass), pass);
    }

    /**
     * One matmul over the block-ordered q/k/v weights (see {@link BloomLayerWeights}): each token's
     * query, key and value heads side by side, {@code [tokens, 3 * heads, headDim]}.
     */
    private INDArray queriesKeysValues(int layer, INDArray x, ForwardPass pass) {
        BloomLayerWeights w = weights.layers().get(layer);
        return Linear.apply(x, w.qkvWeight(), w.qkvBias())
                .reshape('c', true, pass.tokens(), 3L * config.numHeads(), config.headDim());
    }

    @Override
    public INDArray logits(INDArray hidden) {
        INDArray x = Norms.layer(hidden, weights.finalLayernormWeight(), weights.finalLayernormBias(),
                config.layerNormEps());
        return Linear.apply(x, weights.wordEmbeddings(), null);
    }

    @Override
    public long layerWeightBytes() {
        return weights.layers().get(0).bytes();
    }

    @Override
    public long headWeightBytes() {
        return (weights.finalLayernormWeight().length() + weights.finalLayernormBias().length()) * Float.BYTES
                + weights.wordEmbeddings().bytes();
    }

    @Override
    public String weightFormat() {
        return weights.wordEmbeddings().format().label();
    }

    @Override
    public HostPass openHostPass(HostKvCache cache, int maxRows) {
        if (backend() != ForwardBackend.HOST) {
            throw new IllegalStateException("this network was loaded for the nd4j forward pass");
        }
        return new BloomHostPass(config, weights,
                HostAttention.over(cache, config.numHeads(), config.numHeads(), config.headDim(), alibiSlopes), maxRows);
    }

    @Override
    public ForwardBackend backend() {
        return weights.wordEmbeddings().onHost() ? ForwardBackend.HOST : ForwardBackend.ND4J;
    }

    /** Closes the base arrays. */
    @Override
    public void close() {
        weights.wordEmbeddings().close();
        List<INDArray> arrays = new ArrayList<>(List.of(weights.embeddingLayernormWeight(),
                weights.embeddingLayernormBias(), weights.finalLayernormWeight(), weights.finalLayernormBias()));
        for (BloomLayerWeights w : weights.layers()) {
            List.of(w.qkvWeight(), w.denseWeight(), w.fcWeight(), w.projWeight()).forEach(Weight::close);
            arrays.addAll(List.of(w.inputLayernormWeight(), w.inputLayernormBias(), w.qkvBias(), w.denseBias(),
                    w.postAttentionLayernormWeight(), w.postAttentionLayernormBias(), w.fcBias(), w.projBias()));
        }
        arrays.add(alibi.getAndSet(null));
        NativeArrays.close(arrays);
    }
}
