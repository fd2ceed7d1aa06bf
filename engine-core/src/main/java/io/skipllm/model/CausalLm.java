package io.skipllm.model;

import io.skipllm.backend.ForwardBackend;
import io.skipllm.kvcache.HostKvCache;
import io.skipllm.model.host.HostPass;
import io.skipllm.model.nd4j.ForwardPass;
import io.skipllm.model.nd4j.RotaryEmbedding;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One architecture family's network: for the nd4j forward pass split at the seams where layer skipping
 * acts (embedding, one decoder layer, the head), for the host forward pass a {@link HostPass}. {@link SkipAwareDecoder} decides which layers run; an implementation
 * only knows how to run one. Implementations are immutable and safe to share between threads.
 */
public interface CausalLm {

    ModelConfig config();

    /** Hidden states {@code [ids.length, hidden]} for the token ids (a new array). */
    INDArray embed(int[] ids);

    /**
     * The additive attention bias of one forward call from its mask {@code [B, 1, 1, S, keys]}; the
     * architecture adds its position bias (BLOOM's ALiBi) or returns the mask as it is.
     */
    INDArray attentionBias(INDArray mask, int keyCount);

    /** Rotary cos/sin tables for the positions of one forward call, or null without rotary embeddings. */
    RotaryEmbedding.Tables rotaryTables(int[] positions);

    /** Runs decoder layer {@code layer} on {@code hidden [B * S, hidden]} in place. */
    void layer(int layer, INDArray hidden, ForwardPass pass);

    /**
     * Computes layer {@code layer}'s keys and values for {@code hidden} and writes them to the cache,
     * without running attention or the MLP: early exit's state propagation into the layers a token
     * skipped.
     */
    void storeKeysValues(int layer, INDArray hidden, ForwardPass pass);

    /** Final norm and LM head: {@code hidden [rows, hidden] -> logits [rows, vocab]} (a new array). */
    INDArray logits(INDArray hidden);

    /** Bytes of one decoder layer's weights (all layers have the same size). */
    long layerWeightBytes();

    /** Bytes of the weights read once per token outside the layers: final norm and LM head. */
    long headWeightBytes();

    /** The in-memory format of the weight matrices ({@code f32}, {@code bf16}, {@code f16}, {@code q8_0}, {@code q4_0}). */
    String weightFormat();

    /**
     * The forward pass this network was loaded for: its weights are host {@code Weight}s (host) or float32
     * ND4J arrays (nd4j). Sessions run every call through that one; the methods above are the nd4j pass's
     * pieces, {@link #openHostPass} the host pass.
     */
    ForwardBackend backend();

    /**
     * The host forward pass over {@code cache} for up to {@code maxRows} rows per call; only a network
     * loaded for the host backend has one.
     *
     * @throws IllegalStateException on a network loaded for the nd4j backend
     */
    HostPass openHostPass(HostKvCache cache, int maxRows);

    /**
     * Frees the weights' native memory at once (ND4J would otherwise hold it until garbage collection).
     * The network must not be used afterwards: ND4J would read freed memory. {@link Model#close} calls
     * this only once no decode session is open.
     */
    void close();
}
