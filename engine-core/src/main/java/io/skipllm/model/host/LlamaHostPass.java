package io.skipllm.model.host;

import io.skipllm.model.HiddenState;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.StepPlan;
import io.skipllm.model.llama.LlamaLayerWeights;
import io.skipllm.model.llama.LlamaWeights;
import io.skipllm.weights.Weight;

/**
 * The LLaMA-family forward pass on the CPU, read top to bottom like llama2.c's {@code forward}: embed,
 * then per layer RMSNorm, fused q/k/v, rotary, cache write and attention, output projection added to
 * the residual, RMSNorm, fused gate/up, SiLU(gate) * up, down projection added to the residual; final
 * RMSNorm and LM head for the rows that need logits. Every buffer is allocated once per session (the
 * fields below are llama2.c's {@code RunState}); matrices are multiplied by {@link Weight#matmul}, which
 * reads each weight once for all rows. A step plan looks at the hidden state between layers through
 * {@link #logits()} (early exit), on the same buffers.
 */
public final class LlamaHostPass implements HostPass, HiddenState {

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final HostRotary rotary;
    private final HostAttention attention;
    private final int maxRows;

    // weights the loops read as Java arrays: norms and biases (small), copied once per session
    private final float[][] inputNorms;
    private final float[][] postAttentionNorms;
    private final float[][] qkvBiases;
    private final float[] finalNorm;

    // run state: activations of up to maxRows rows, row-major
    /** the residual stream, [rows, hidden] */
    private final float[] x;
    /** the normalised residual, input of the projections, [rows, hidden] */
    private final float[] xb;
    /** queries, keys and values side by side, [rows, (heads + 2 kvHeads) * headDim] */
    private final float[] qkv;
    /** attention output, [rows, heads * headDim] */
    private final float[] context;
    /** gate and up projections side by side, [rows, 2 * intermediate] */
    private final float[] gateUp;
    /** SiLU(gate) * up, [rows, intermediate] */
    private final float[] hidden;
    /** cos and sin of each row's rotary angles, [rows, headDim / 2] */
    private final float[] cos;
    private final float[] sin;
    private final HostHead head;
    /** Rows of the call in progress, for {@link HiddenState}. */
    private int rows;
    /** Intermediate predictions, [rows, vocab]; allocated the first time a plan asks. */
    private float[] prediction = new float[0];

    public LlamaHostPass(LlamaConfig config, LlamaWeights weights, HostRotary rotary, HostAttention attention,
            int maxRows) {
        this.config = config;
        this.weights = weights;
        this.rotary = rotary;
        this.maxRows = maxRows;
        int layers = config.numLayers();
        this.inputNorms = new float[layers][];
        this.postAttentionNorms = new float[layers][];
        this.qkvBiases = new float[layers][];
        for (int l = 0; l < layers; l++) {
            LlamaLayerWeights w = weights.layers().get(l);
            inputNorms[l] = w.inputLayernorm().toFloatVector();
            postAttentionNorms[l] = w.postAttentionLayernorm().toFloatVector();
            qkvBiases[l] = w.qkvBias() == null ? null : w.qkvBias().toFloatVector();
        }
        this.finalNorm = weights.norm().toFloatVector();
        this.attention = attention;
        int h = config.hiddenSize();
        int ff = config.intermediateSize();
        this.x = new float[maxRows * h];
        this.xb = new float[maxRows * h];
        this.qkv = new float[maxRows * qkvWidth()];
        this.context = new float[maxRows * config.numHeads() * config.headDim()];
        this.gateUp = new float[maxRows * 2 * ff];
        this.hidden = new float[maxRows * ff];
        this.cos = new float[maxRows * config.headDim() / 2];
        this.sin = new float[maxRows * config.headDim() / 2];
        this.head = new HostHead(h, config.vocabSize(), maxRows);
    }

    private int qkvWidth() {
        return (config.numHeads() + 2 * config.numKvHeads()) * config.headDim();
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
        int half = config.headDim() / 2;
        for (int i = 0; i < n; i++) {
            weights.embedTokens().row(rows.tokens()[i], x, i * h);
            rotary.angles(rows.positions()[i], cos, sin, i * half);
        }
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
        head(n, rows.logitsRows(), logits);
        return ran;
    }

    private void layer(int layer, int n, int[] sequences, int[] slots, int[] firstVisible) {
        LlamaLayerWeights w = weights.layers().get(layer);
        int h = config.hiddenSize();
        double eps = config.rmsNormEps();

        HostMath.rmsNorm(x, xb, inputNorms[layer], n, h, eps);
        w.qkvProj().matmul(xb, n, qkv, false);
        int width = qkvWidth();
        if (qkvBiases[layer] != null) {
            HostMath.addRowVector(qkv, qkvBiases[layer], n, width);
        }
        int rotatedHeads = config.numHeads() + config.numKvHeads();
        int half = config.headDim() / 2;
        for (int i = 0; i < n; i++) {
            rotary.rotate(qkv, i * width, rotatedHeads, cos, sin, i * half);
        }
        attention.attend(layer, qkv, n, sequences, slots, firstVisible, context);
        w.oProj().matmul(context, n, x, true);

        HostMath.rmsNorm(x, xb, postAttentionNorms[layer], n, h, eps);
        w.gateUpProj().matmul(xb, n, gateUp, false);
        HostMath.siluGateTimesUp(gateUp, hidden, n, config.intermediateSize());
        w.downProj().matmul(hidden, n, x, true);
    }

    /**
     * Layer {@code layer}'s keys and values for the rows' current hidden state, written to the cache with
     * no attention or MLP: early exit's state propagation into a layer the token skipped.
     */
    private void storeKeysValues(int layer, int n, int[] sequences, int[] slots, int[] firstVisible) {
        HostMath.rmsNorm(x, xb, inputNorms[layer], n, config.hiddenSize(), config.rmsNormEps());
        weights.layers().get(layer).qkvProj().matmul(xb, n, qkv, false);
        int width = qkvWidth();
        if (qkvBiases[layer] != null) {
            HostMath.addRowVector(qkv, qkvBiases[layer], n, width);
        }
        int half = config.headDim() / 2;
        for (int i = 0; i < n; i++) {
            rotary.rotate(qkv, i * width, config.numHeads() + config.numKvHeads(), cos, sin, i * half);
        }
        attention.store(layer, qkv, n, sequences, slots, firstVisible);
    }

    @Override
    public int rows() {
        return rows;
    }

    /** Final norm and LM head on every row's residual as it is (xb is scratch: each layer recomputes it). */
    @Override
    public float[] logits() {
        int vocab = config.vocabSize();
        if (prediction.length != rows * vocab) {
            prediction = new float[rows * vocab];
        }
        HostMath.rmsNorm(x, xb, finalNorm, rows, config.hiddenSize(), config.rmsNormEps());
        weights.lmHead().matmul(xb, rows, prediction, false);
        return prediction;
    }

    /** Final norm and LM head for the rows that want logits, in one matmul. */
    private void head(int n, int[] logitsRows, float[] logits) {
        int wanted = head.gather(x, n, logitsRows);
        if (wanted > 0) {
            HostMath.rmsNorm(x, xb, finalNorm, wanted, config.hiddenSize(), config.rmsNormEps());
            head.project(weights.lmHead(), xb, wanted, logits);
        }
    }
}
