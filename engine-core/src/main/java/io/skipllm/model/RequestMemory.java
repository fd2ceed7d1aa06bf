package io.skipllm.model;

import io.skipllm.SkipLlmException;
import io.skipllm.kvcache.KvCache;
import io.skipllm.planner.RetainedLayers;
import org.bytedeco.javacpp.Pointer;

/**
 * What a request batch will allocate, computed before anything is allocated, and the check that it
 * fits. ND4J memory is native: a batch that does not fit would fail deep inside native code (or take
 * the machine's memory), so the engine refuses it up front with the numbers a caller needs.
 */
public final class RequestMemory {

    private RequestMemory() {
    }

    /** Thrown when a request's cache and buffers would not fit in the memory available. */
    public static final class InsufficientMemoryException extends SkipLlmException {
        private final long neededBytes;
        private final long availableBytes;
        private final int largestBatchThatFits;

        InsufficientMemoryException(long needed, long available, int largestBatch, int batch) {
            super("a batch of " + batch + " needs " + needed + " bytes (KV cache and buffers) but " + available
                    + " bytes are available; the largest batch that fits is " + largestBatch);
            this.neededBytes = needed;
            this.availableBytes = available;
            this.largestBatchThatFits = largestBatch;
        }

        public long neededBytes() {
            return neededBytes;
        }

        public long availableBytes() {
            return availableBytes;
        }

        public int largestBatchThatFits() {
            return largestBatchThatFits;
        }
    }

    /**
     * Bytes a batch will hold: its static KV cache, the logits and mask buffers, and the peak
     * temporaries of one prefill layer (the largest of a request's transient allocations).
     */
    public static long bytesFor(ModelConfig config, int batch, int promptLength, int maxNewTokens,
            RetainedLayers retained) {
        long cache = KvCache.bytesFor(config.numLayers(), batch, config.numKvHeads(), config.headDim(), promptLength,
                maxNewTokens, retained);
        long tokens = (long) batch * promptLength;
        long qkvWidth = (long) (config.numHeads() + 2 * config.numKvHeads()) * config.headDim();
        long mlpWidth = config instanceof LlamaConfig llama ? 2L * llama.intermediateSize() : 4L * config.hiddenSize();
        // per prompt token in one prefill layer: norms and residual temporaries, q/k/v and their
        // rearranged copies, attention scores over the prompt (twice: scores and bias), the MLP
        long perToken = 6L * config.hiddenSize() + 2 * qkvWidth + 2L * config.numHeads() * promptLength + mlpWidth;
        long prefill = tokens * perToken * Float.BYTES + tokens * config.hiddenSize() * Float.BYTES;
        long buffers = (long) batch * (config.vocabSize() + promptLength + maxNewTokens) * Float.BYTES;
        return cache + prefill + buffers;
    }

    /**
     * Native memory this process may still use: JavaCPP's physical-memory limit
     * ({@code -Dorg.bytedeco.javacpp.maxPhysicalBytes}, which ND4J honours) minus what the process
     * already holds.
     */
    public static long availableBytes() {
        long max = Pointer.maxPhysicalBytes();
        if (max <= 0) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, max - Pointer.physicalBytes());
    }

    /** Bytes {@code rows} independent sequences of {@code capacity} tokens hold ({@link SequenceBatch}): cache and logits. */
    public static long sequencesBytes(ModelConfig config, int rows, int capacity) {
        return SequenceBatch.cacheBytes(config, rows, capacity) + (long) rows * config.vocabSize() * Float.BYTES;
    }

    /**
     * Refuses a request batch that would not fit in {@code available} bytes.
     *
     * @throws InsufficientMemoryException with the needed and available bytes and the largest batch
     *     (same prompt length and new tokens) that would fit
     */
    static void requireFits(ModelConfig config, int batch, int promptLength, int maxNewTokens,
            RetainedLayers retained, long available) {
        requireFits(rows -> bytesFor(config, rows, promptLength, maxNewTokens, retained), batch, available);
    }

    /**
     * The one memory check of every request shape: refuses {@code rows} rows whose bytes {@code bytesFor}
     * gives (non-decreasing in the rows) when they exceed {@code available}, naming the most rows that fit.
     */
    static void requireFits(java.util.function.IntToLongFunction bytesFor, int rows, long available) {
        long needed = bytesFor.applyAsLong(rows);
        if (needed <= available) {
            return;
        }
        int fits = 0;
        int lo = 1;
        int hi = rows - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (bytesFor.applyAsLong(mid) <= available) {
                fits = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        throw new InsufficientMemoryException(needed, available, fits, rows);
    }
}
