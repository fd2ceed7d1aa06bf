package io.skipllm.model.llama;

import io.skipllm.model.HostPass;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.layers.HostAttention;
import io.skipllm.model.layers.HostHead;
import io.skipllm.model.layers.HostMath;
import io.skipllm.model.layers.RotaryEmbedding;
import io.skipllm.weights.Weight;

/**
 * The LLaMA-family forward pass on the CPU, read top to bottom like llama2.c's {@code forward}: embed,
 * then per layer RMSNorm, fused q/k/v, rotary, cache write and attention, output projection added to
 * the residual, RMSNorm, fused gate/up, SiLU(gate) * up, down projection added to the residual; final
 * RMSNorm and LM head for the rows that need logits. Every buffer is allocated once per session (the
 * fields below are llama2.c's {@code RunState}); matrices are multiplied by {@link Weight#matmul}, which
 * reads each weight once for all rows.
 */
final class LlamaHostPass implements HostPass {

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final RotaryEmbedding rotary;
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

    LlamaHostPass(LlamaConfig config, LlamaWeights weights, RotaryEmbedding rotary, HostAttention attention,
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
    public void forward(int n, int[] tokens, int[] positions, int[] sequences, int[] slots, int[] firstVisible,
            int[] layers, int[] logitsRows, float[] logits) {
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("a host pass takes 1.." + maxRows + " rows, got " + n);
        }
        int h = config.hiddenSize();
        int half = config.headDim() / 2;
        for (int i = 0; i < n; i++) {
            weights.embedTokens().row(tokens[i], x, i * h);
            rotary.angles(positions[i], cos, sin, i * half);
        }
        for (int layer : layers) {
            layer(layer, n, sequences, slots, firstVisible);
        }
        head(n, logitsRows, logits);
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

    /** Final norm and LM head for the rows that want logits, in one matmul. */
    private void head(int n, int[] logitsRows, float[] logits) {
        int wanted = head.gather(x, n, logitsRows);
        if (wanted > 0) {
            HostMath.rmsNorm(x, xb, finalNorm, wanted, config.hiddenSize(), config.rmsNormEps());
            head.project(weights.lmHead(), xb, wanted, logits);
        }
    }
}
