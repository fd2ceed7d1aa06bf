package io.skipllm.model.bloom;

import io.skipllm.model.BloomConfig;
import io.skipllm.model.HostPass;
import io.skipllm.model.layers.HostAttention;
import io.skipllm.model.layers.HostHead;
import io.skipllm.model.layers.HostMath;

/**
 * BLOOM's forward pass on the CPU, the counterpart of {@code LlamaHostPass}: embed and LayerNorm, then
 * per block LayerNorm, q/k/v with bias, attention with ALiBi (no rotary), dense projection with bias
 * added to the residual, LayerNorm, h-to-4h with bias, GELU (tanh), 4h-to-h with bias added to the
 * residual; final LayerNorm and the tied head. Buffers are allocated once per session.
 */
final class BloomHostPass implements HostPass {

    private final BloomConfig config;
    private final BloomWeights weights;
    private final HostAttention attention;
    private final HostHead head;
    private final int maxRows;

    /** Per layer, the norms and biases as Java arrays: {@link Small}. */
    private final Small[] small;
    private final float[] embeddingNormWeight;
    private final float[] embeddingNormBias;
    private final float[] finalNormWeight;
    private final float[] finalNormBias;

    // run state, row-major
    /** the residual stream, [rows, hidden] */
    private final float[] x;
    /** the normalised residual, [rows, hidden] */
    private final float[] xb;
    /** queries, keys and values in blocks, [rows, 3 * hidden] */
    private final float[] qkv;
    /** attention output, [rows, hidden] */
    private final float[] context;
    /** MLP activations, [rows, intermediate] */
    private final float[] mlp;

    /** One block's vectors. */
    private record Small(float[] inputNormWeight, float[] inputNormBias, float[] qkvBias, float[] denseBias,
            float[] postNormWeight, float[] postNormBias, float[] fcBias, float[] projBias) {
        static Small of(BloomLayerWeights w) {
            return new Small(w.inputLayernormWeight().toFloatVector(), w.inputLayernormBias().toFloatVector(),
                    w.qkvBias().toFloatVector(), w.denseBias().toFloatVector(),
                    w.postAttentionLayernormWeight().toFloatVector(), w.postAttentionLayernormBias().toFloatVector(),
                    w.fcBias().toFloatVector(), w.projBias().toFloatVector());
        }
    }

    BloomHostPass(BloomConfig config, BloomWeights weights, HostAttention attention, int maxRows) {
        this.config = config;
        this.weights = weights;
        this.attention = attention;
        this.maxRows = maxRows;
        this.small = weights.layers().stream().map(Small::of).toArray(Small[]::new);
        this.embeddingNormWeight = weights.embeddingLayernormWeight().toFloatVector();
        this.embeddingNormBias = weights.embeddingLayernormBias().toFloatVector();
        this.finalNormWeight = weights.finalLayernormWeight().toFloatVector();
        this.finalNormBias = weights.finalLayernormBias().toFloatVector();
        int h = config.hiddenSize();
        this.x = new float[maxRows * h];
        this.xb = new float[maxRows * h];
        this.qkv = new float[maxRows * 3 * h];
        this.context = new float[maxRows * h];
        this.mlp = new float[maxRows * config.intermediateSize()];
        this.head = new HostHead(h, config.vocabSize(), maxRows);
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    @Override
    public void forward(int n, int[] tokens, int[] positions, int[] sequences, int[] slots, int[] firstVisible,
            int[] layers, int[] logitsRows, float[] logits) {
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("a host pass takes 1.." + maxRows + " rows, got " + n);
        }
        int h = config.hiddenSize();
        for (int i = 0; i < n; i++) {
            weights.wordEmbeddings().row(tokens[i], xb, i * h);
        }
        HostMath.layerNorm(xb, x, embeddingNormWeight, embeddingNormBias, n, h, config.layerNormEps());
        for (int layer : layers) {
            layer(layer, n, sequences, slots, firstVisible);
        }
        int wanted = head.gather(x, n, logitsRows);
        if (wanted > 0) {
            HostMath.layerNorm(x, xb, finalNormWeight, finalNormBias, wanted, h, config.layerNormEps());
            head.project(weights.wordEmbeddings(), xb, wanted, logits);
        }
    }

    private void layer(int layer, int n, int[] sequences, int[] slots, int[] firstVisible) {
        BloomLayerWeights w = weights.layers().get(layer);
        Small s = small[layer];
        int h = config.hiddenSize();
        double eps = config.layerNormEps();

        HostMath.layerNorm(x, xb, s.inputNormWeight(), s.inputNormBias(), n, h, eps);
        w.qkvWeight().matmul(xb, n, qkv, false);
        HostMath.addRowVector(qkv, s.qkvBias(), n, 3 * h);
        attention.attend(layer, qkv, n, sequences, slots, firstVisible, context);
        w.denseWeight().matmul(context, n, x, true);
        HostMath.addRowVector(x, s.denseBias(), n, h);

        HostMath.layerNorm(x, xb, s.postNormWeight(), s.postNormBias(), n, h, eps);
        int ff = config.intermediateSize();
        w.fcWeight().matmul(xb, n, mlp, false);
        HostMath.addRowVector(mlp, s.fcBias(), n, ff);
        HostMath.geluTanh(mlp, n * ff);
        w.projWeight().matmul(mlp, n, x, true);
        HostMath.addRowVector(x, s.projBias(), n, h);
    }
}
