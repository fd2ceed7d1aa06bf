package io.skipllm.model.host;

import java.util.Arrays;

/**
 * The inner loop of attention on the CPU: one query head against a block of cached keys and values in
 * Java arrays: {@link HostAttention}'s, for every architecture of the host pass.
 */
public final class HeadAttention {

    private HeadAttention() {
    }

    /**
     * softmax(scale q.k_t + bias_t) over the visible slots {@code t < slots}, times the values, into
     * {@code sum}; the query is {@code query[queryAt, queryAt + headDim)}, slot t's key and value are
     * {@code keyBlock/valueBlock[t * headDim, (t + 1) * headDim)}, its bias {@code biasRows[biasAt + t]}
     * (null: no bias). A head that sees no slot at all (never the case in a decode step, which sees its own
     * token) gets a zero context.
     *
     * <p>Why the loops look the way they do: the JIT does not vectorise a float sum (it must keep
     * Java's evaluation order), so the score loop computes four slots at a time and the value loop
     * eight output elements at a time, each in its own register: independent chains instead of one,
     * measured ~2x faster than the straightforward loops.
     */
    public static void attend(float[] query, int queryAt, int headDim, float[] keyBlock, float[] valueBlock, float[] biasRows,
            int biasAt, float[] weights, float[] sum, float scaleF, int slots) {
        float max = Float.NEGATIVE_INFINITY;
        int t = 0;
        for (; t + 3 < slots; t += 4) {
            int k0 = t * headDim;
            int k1 = k0 + headDim;
            int k2 = k1 + headDim;
            int k3 = k2 + headDim;
            float dot0 = 0;
            float dot1 = 0;
            float dot2 = 0;
            float dot3 = 0;
            for (int d = 0; d < headDim; d++) {
                float q = query[queryAt + d];
                dot0 += q * keyBlock[k0 + d];
                dot1 += q * keyBlock[k1 + d];
                dot2 += q * keyBlock[k2 + d];
                dot3 += q * keyBlock[k3 + d];
            }
            max = Math.max(max, score(weights, biasRows, biasAt, t, dot0 * scaleF));
            max = Math.max(max, score(weights, biasRows, biasAt, t + 1, dot1 * scaleF));
            max = Math.max(max, score(weights, biasRows, biasAt, t + 2, dot2 * scaleF));
            max = Math.max(max, score(weights, biasRows, biasAt, t + 3, dot3 * scaleF));
        }
        for (; t < slots; t++) {
            int k0 = t * headDim;
            float dot = 0;
            for (int d = 0; d < headDim; d++) {
                dot += query[queryAt + d] * keyBlock[k0 + d];
            }
            max = Math.max(max, score(weights, biasRows, biasAt, t, dot * scaleF));
        }
        double total = 0;
        for (t = 0; t < slots; t++) {
            float e = weights[t] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(weights[t] - max);
            weights[t] = e;
            total += e;
        }
        Arrays.fill(sum, 0f);
        if (total == 0) {
            return;
        }
        float inverse = (float) (1.0 / total);
        int d = 0;
        for (; d + 7 < headDim; d += 8) {
            float s0 = 0;
            float s1 = 0;
            float s2 = 0;
            float s3 = 0;
            float s4 = 0;
            float s5 = 0;
            float s6 = 0;
            float s7 = 0;
            for (t = 0; t < slots; t++) {
                float p = weights[t];
                int at = t * headDim + d;
                s0 += p * valueBlock[at];
                s1 += p * valueBlock[at + 1];
                s2 += p * valueBlock[at + 2];
                s3 += p * valueBlock[at + 3];
                s4 += p * valueBlock[at + 4];
                s5 += p * valueBlock[at + 5];
                s6 += p * valueBlock[at + 6];
                s7 += p * valueBlock[at + 7];
            }
            sum[d] = s0 * inverse;
            sum[d + 1] = s1 * inverse;
            sum[d + 2] = s2 * inverse;
            sum[d + 3] = s3 * inverse;
            sum[d + 4] = s4 * inverse;
            sum[d + 5] = s5 * inverse;
            sum[d + 6] = s6 * inverse;
            sum[d + 7] = s7 * inverse;
        }
        for (; d < headDim; d++) {
            float s0 = 0;
            for (t = 0; t < slots; t++) {
                s0 += weights[t] * valueBlock[t * headDim + d];
            }
            sum[d] = s0 * inverse;
        }
    }

    /**
     * Slot t's score: the scaled dot product plus its bias (ALiBi); without a bias array ({@code null}) the
     * dot product alone. Nothing is masked here: the caller passes the visible slots only.
     */
    private static float score(float[] weights, float[] biasRows, int biasAt, int t, float scaledDot) {
        if (biasRows == null) {
            weights[t] = scaledDot;
            return scaledDot;
        }
        float add = biasRows[biasAt + t];
        weights[t] = scaledDot + add;
        return weights[t];
    }

}
