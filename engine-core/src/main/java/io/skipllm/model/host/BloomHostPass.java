package io.skipllm.model.host;

import io.skipllm.model.BloomConfig;
import io.skipllm.model.HiddenState;
import io.skipllm.model.StepPlan;
import io.skipllm.model.bloom.BloomLayerWeights;
import io.skipllm.model.bloom.BloomWeights;

/**
 * BLOOM's forward pass on the CPU, the counterpart of {@code LlamaHostPass}: embed and LayerNorm, then
 * per block LayerNorm, q/k/v with bias, attention with ALiBi (no rotary), dense projection with bias
 * added to the residual, LayerNorm, h-to-4h with bias, GELU (tanh), 4h-to-h with bias added to the
 * residual; final LayerNorm and the tied head. Buffers are allocated once per session.
 */
public final class BloomHostPass implements HostPass, HiddenState {

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
    /** Rows of the call in progress, for {@link HiddenState}. */
    private int rows;
    /** Intermediate predictions, [rows, vocab]; allocated the first time a plan asks. */
    private float[] prediction = new float[0];

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

    public BloomHostPass(BloomConfig config, BloomWeights weights, HostAttention attention, int maxRows) {
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
    public int forward(StepRows rows, int[] layers, StepPlan plan, int[] fillAfterExit, float[] logits) {
        int n = rows.count();
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("a host pass takes 1.." + maxRows + " rows, got " + n);
        }
        this.rows = n;
        int h = config.hiddenSize();
        for (int i = 0; i < n; i++) {
            weights.wordEmbeddings().row(rows.tokens()[i], xb, i * h);
        }
        HostMath.layerNorm(xb, x, embeddingNormWeight, embeddingNormBias, n, h, config.layerNormEps());
        int ran = 0;
        int last = -1;
        for (int layer : layers) {
            layer(layer, n, rows.sequences(), rows.slots(), rows.firstVisible());
            ran++;
            last = layer;
            if (plan != null && plan.exitAfter(layer, this)) {
                break;
            }
        }
        if (fillAfterExit != null) {
            for (int layer : fillAfterExit) {
                if (layer > last) {
                    storeKeysValues(layer, n, rows.sequences(), rows.slots(), rows.firstVisible());
                }
            }
        }
        int wanted = head.gather(x, n, rows.logitsRows());
        if (wanted > 0) {
            HostMath.layerNorm(x, xb, finalNormWeight, finalNormBias, wanted, h, config.layerNormEps());
            head.project(weights.wordEmbeddings(), xb, wanted, logits);
        }
        return ran;
    }

    /** Layer {@code layer}'s keys and values for the rows' hidden state, no attention or MLP (early exit's propagation). */
    private void storeKeysValues(int layer, int n, int[] sequences, int[] slots, int[] firstVisible) {
        Small s = small[layer];
        int h = config.hiddenSize();
        HostMath.layerNorm(x, xb, s.inputNormWeight(), s.inputNormBias(), n, h, config.layerNormEps());
        weights.layers().get(layer).qkvWeight().matmul(xb, n, qkv, false);
        HostMath.addRowVector(qkv, s.qkvBias(), n, 3 * h);
        attention.store(layer, qkv, n, sequences, slots, firstVisible);
    }

    @Override
    public int rows() {
        return rows;
    }

    /** Final LayerNorm and the tied head on every row's residual as it is (xb is scratch). */
    @Override
    public float[] logits() {
        int vocab = config.vocabSize();
        if (prediction.length != rows * vocab) {
            prediction = new float[rows * vocab];
        }
        HostMath.layerNorm(x, xb, finalNormWeight, finalNormBias, rows, config.hiddenSize(), config.layerNormEps());
        weights.wordEmbeddings().matmul(xb, rows, prediction, false);
        return prediction;
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
