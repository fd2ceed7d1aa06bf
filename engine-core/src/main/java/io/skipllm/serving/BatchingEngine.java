package io.skipllm.serving;

import io.skipllm.BadInputException;
import io.skipllm.SkipLlmException;
import io.skipllm.generation.GenerationCancelledException;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.SequenceGeneration;
import io.skipllm.generation.TextCodec;
import io.skipllm.generation.TokenStreamListener;
import io.skipllm.model.ModelConfig;
import io.skipllm.model.SequenceBatch;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.RetainedLayers;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching: one model, a fixed number of batch rows on one static KV cache allocated up
 * front, and requests from any thread. A request waits in a bounded queue until a row is free, is
 * prefilled at full depth (in chunks, interleaved with the running rows' decode steps), then joins the
 * running batch; a row that finishes (stop token, stop string, max tokens) or is cancelled frees its
 * row for the next waiting request at once.
 *
 * <p>Every step runs on the engine's own thread and does, in order: admit waiting requests into free
 * rows, drop cancelled rows, then one forward call per distinct layer set: each running row feeds its
 * latest token through its plan's retained layers, and up to {@link Options#prefillChunk()} prompt
 * tokens of joining requests run every layer (a full-depth plan shares that call). Rows of requests
 * with different skip plans therefore share the step but not the call: each call reads its own layers'
 * weights once for all its rows. A long prompt delays running rows by at most one chunk per step.
 *
 * <p>A request's output does not depend on its company: every row's arithmetic is the same whatever
 * else is in the call (the kernels and attention are row-independent) and sampling uses the request's
 * own random stream, so greedy output equals {@link io.skipllm.generation.Generator#generate} of the
 * prompt alone, token for token ({@code BatchingEngineTest}).
 *
 * <p>Greedy search and sampling only: beam search, several returned sequences and lossless mode are
 * refused at {@link #submit}. CPU host pass only.
 */
public final class BatchingEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchingEngine.class);

    /**
     * The engine's fixed sizes.
     *
     * @param maxBatch rows decoded together (requests running at once)
     * @param maxQueue requests that may wait for a row; more are refused with {@link QueueFullException}
     * @param maxSequenceLength the most tokens (prompt + new tokens) one request may hold: each row's cache room
     * @param prefillChunk the most prompt tokens prefilled per step, over all joining requests
     */
    public record Options(int maxBatch, int maxQueue, int maxSequenceLength, int prefillChunk) {

        public Options {
            if (maxBatch < 1 || maxQueue < 1 || maxSequenceLength < 2 || prefillChunk < 1) {
                throw new BadInputException("engine options need maxBatch >= 1, maxQueue >= 1, maxSequenceLength >= 2 "
                        + "and prefillChunk >= 1; got " + maxBatch + ", " + maxQueue + ", " + maxSequenceLength + ", "
                        + prefillChunk);
            }
        }

        /** 8 rows, 64 waiting, the model's context up to 2048 tokens, 256-token prefill chunks. */
        public static Options defaults(ModelConfig config) {
            return new Options(8, 64, Math.min(config.maxPositions(), 2048), 256);
        }

        public Options withMaxBatch(int value) {
            return new Options(value, maxQueue, maxSequenceLength, prefillChunk);
        }

        public Options withMaxQueue(int value) {
            return new Options(maxBatch, value, maxSequenceLength, prefillChunk);
        }

        public Options withMaxSequenceLength(int value) {
            return new Options(maxBatch, maxQueue, value, prefillChunk);
        }

        public Options withPrefillChunk(int value) {
            return new Options(maxBatch, maxQueue, maxSequenceLength, value);
        }
    }

    /** Counters since the engine started, and the current load. */
    public record Stats(long accepted, long completed, long cancelled, long failed, long rejected, long generatedTokens,
            int activeRows, int queueLength, int maxBatch) {
    }

    /** The queue of waiting requests is full: retry later. */
    public static final class QueueFullException extends SkipLlmException {
        QueueFullException(int waiting) {
            super("the engine is busy: " + waiting + " requests are already waiting for a batch row; retry later");
        }
    }

    private final ModelConfig config;
    private final TextCodec codec;
    private final Options options;
    private final SequenceBatch batch;
    private final RetainedLayers allLayers;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final Condition idle = lock.newCondition();
    /** Requests waiting for a row, oldest first. Guarded by {@link #lock}. */
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();
    /** Guarded by {@link #lock}. */
    private boolean accepting = true;
    /** Set once: the loop cancels what is left and ends. Guarded by {@link #lock}. */
    private boolean stopping;

    // owned by the engine thread
    private final Job[] rows;
    private final float[] logits;
    private final float[] rowLogits;

    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private volatile int activeRows;
    private final Thread thread;

    private BatchingEngine(SkipAwareDecoder decoder, TextCodec codec, Options options) {
        this.config = decoder.model().config();
        this.codec = codec;
        if (options.maxSequenceLength() > config.maxPositions()) {
            throw new BadInputException("maxSequenceLength " + options.maxSequenceLength() + " exceeds the model's "
                    + "context of " + config.maxPositions() + " positions");
        }
        this.options = options;
        this.allLayers = RetainedLayers.all(config.numLayers());
        this.batch = decoder.openSequences(options.maxBatch(), options.maxSequenceLength());
        this.rows = new Job[options.maxBatch()];
        this.logits = new float[options.maxBatch() * config.vocabSize()];
        this.rowLogits = new float[config.vocabSize()];
        this.thread = new Thread(this::loop, "skipllm-batching-engine");
        thread.setDaemon(true);
    }

    /**
     * Allocates the cache for {@code options.maxBatch()} rows of {@code options.maxSequenceLength()}
     * tokens and starts the engine's thread.
     *
     * @param codec the tokenizer for text prompts, streamed text and stop strings; null for token ids only
     * @throws io.skipllm.model.RequestMemory.InsufficientMemoryException when the cache would not fit
     */
    public static BatchingEngine start(SkipAwareDecoder decoder, TextCodec codec, Options options) {
        Objects.requireNonNull(decoder, "decoder");
        Objects.requireNonNull(options, "options");
        BatchingEngine engine = new BatchingEngine(decoder, codec, options);
        engine.thread.start();
        return engine;
    }

    /**
     * Queues a request; it joins the running batch as soon as a row is free.
     *
     * @param listener receives each generated token on the engine's thread (keep it short: the whole
     *     batch waits for it); may be null
     * @throws BadInputException for an invalid request (as {@link io.skipllm.generation.Generator#generate}
     *     checks it), one longer than {@link #maxSequenceLength()}, beam search or several sequences
     * @throws QueueFullException when {@link Options#maxQueue()} requests are already waiting
     * @throws IllegalStateException once {@link #shutdown} has begun
     */
    public RequestHandle submit(int[] prompt, GenerationConfig config, TokenStreamListener listener) {
        SequenceGeneration generation = SequenceGeneration.start(this.config, prompt, config, codec, listener);
        int needed = generation.prompt().length + generation.maxNewTokens();
        if (needed > options.maxSequenceLength()) {
            throw new BadInputException("the prompt has " + generation.prompt().length + " tokens; with max new tokens "
                    + generation.maxNewTokens() + " it needs " + needed + " positions but this engine holds "
                    + options.maxSequenceLength() + " per request");
        }
        Job job = new Job(generation);
        lock.lock();
        try {
            if (!accepting) {
                throw new IllegalStateException("the engine is shutting down and accepts no new requests");
            }
            if (waiting.size() >= options.maxQueue()) {
                rejected.incrementAndGet();
                throw new QueueFullException(waiting.size());
            }
            waiting.addLast(job);
            accepted.incrementAndGet();
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        return job.handle;
    }

    /** As {@link #submit} for a text prompt, encoded by the tokenizer (special tokens included). */
    public RequestHandle submitText(String prompt, GenerationConfig config, TokenStreamListener listener) {
        if (prompt == null) {
            throw new BadInputException("prompt is null");
        }
        return submit(encode(prompt), config, listener);
    }

    /** False once {@link #shutdown} has begun (or the engine stopped on an error): {@link #submit} refuses then. */
    public boolean isAccepting() {
        lock.lock();
        try {
            return accepting;
        } finally {
            lock.unlock();
        }
    }

    /** The tokenizer's ids for {@code text}. */
    public int[] encode(String text) {
        if (codec == null) {
            throw new BadInputException("text prompts need a tokenizer and this model has none; give token ids");
        }
        return codec.encode(text);
    }

    public boolean hasTokenizer() {
        return codec != null;
    }

    /** The most tokens (prompt + new tokens) one request may hold. */
    public int maxSequenceLength() {
        return options.maxSequenceLength();
    }

    public ModelConfig modelConfig() {
        return config;
    }

    public Options options() {
        return options;
    }

    /** Bytes of the engine's KV cache (allocated once, at start). */
    public long cacheBytes() {
        return batch.cacheBytes();
    }

    public Stats stats() {
        int queued;
        lock.lock();
        try {
            queued = waiting.size();
        } finally {
            lock.unlock();
        }
        return new Stats(accepted.get(), completed.get(), cancelled.get(), failed.get(), rejected.get(),
                generatedTokens.get(), activeRows, queued, options.maxBatch());
    }

    /**
     * Stops accepting requests, waits up to {@code timeoutMillis} for the running and waiting ones to
     * finish, then cancels what is left (their results complete with {@link GenerationCancelledException})
     * and stops the engine's thread. Every accepted request's result is complete when this returns.
     *
     * @return true when everything finished without being cancelled
     */
    public boolean shutdown(long timeoutMillis) {
        boolean finished;
        lock.lock();
        try {
            accepting = false;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis));
            while (!(waiting.isEmpty() && activeRows == 0) && thread.isAlive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    idle.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            finished = waiting.isEmpty() && activeRows == 0;
            stopping = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return finished;
    }

    /** {@link #shutdown shutdown(0)}, then frees the cache. */
    @Override
    public void close() {
        shutdown(0);
        batch.close();
    }

    private int freeRows() {
        int free = 0;
        for (Job job : rows) {
            free += job == null ? 1 : 0;
        }
        return free;
    }

    // ---- the engine thread ----

    private void loop() {
        try {
            while (true) {
                if (!admitOrWait()) {
                    break;
                }
                dropCancelledRows();
                step();
            }
        } catch (RuntimeException | Error e) {
            LOG.error("the batching engine stopped on an unexpected error", e);
            failEverything(e);
        } finally {
            cancelEverything();
        }
    }

    /** Moves waiting requests into free rows; waits while there is nothing to do. False when stopping. */
    private boolean admitOrWait() {
        lock.lock();
        try {
            while (true) {
                if (stopping) {
                    return false;
                }
                for (Iterator<Job> it = waiting.iterator(); it.hasNext(); ) {
                    Job job = it.next();
                    if (job.handle.isCancelled()) {
                        it.remove();
                        finishCancelled(job);
                    }
                }
                for (int r = 0; r < rows.length && !waiting.isEmpty(); r++) {
                    if (rows[r] == null) {
                        Job job = waiting.pollFirst();
                        job.row = r;
                        job.admitted = System.nanoTime();
                        rows[r] = job;
                    }
                }
                int active = rows.length - freeRows();
                activeRows = active;
                if (active > 0) {
                    return true;
                }
                idle.signalAll();
                wake.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    private void dropCancelledRows() {
        for (Job job : rows) {
            if (job != null && job.handle.isCancelled()) {
                free(job);
                finishCancelled(job);
            }
        }
    }

    /**
     * One step: the running rows' next tokens and one prefill chunk, as one forward call per distinct
     * layer set (full-depth rows and prompt tokens share one).
     */
    private void step() {
        Map<RetainedLayers, Call> calls = new LinkedHashMap<>();
        for (Job job : rows) {
            if (job != null && job.pending >= 0) {
                calls.computeIfAbsent(job.generation.retained(), Call::new).add(job, job.pending, true);
            }
        }
        int budget = options.prefillChunk();
        for (Job job : prefillOrder()) {
            if (budget == 0) {
                break;
            }
            int[] prompt = job.generation.prompt();
            int take = Math.min(budget, prompt.length - job.prefilled);
            Call call = calls.computeIfAbsent(allLayers, Call::new);
            for (int i = 0; i < take; i++) {
                int at = job.prefilled + i;
                call.add(job, prompt[at], at == prompt.length - 1);
            }
            job.prefilled += take;
            budget -= take;
        }
        for (Call call : calls.values()) {
            run(call);
        }
    }

    /** Rows still prefilling, in the order their requests were admitted. */
    private List<Job> prefillOrder() {
        List<Job> order = new ArrayList<>();
        for (Job job : rows) {
            if (job != null && job.prefilled < job.generation.prompt().length) {
                order.add(job);
            }
        }
        order.sort((a, b) -> Long.compare(a.handle.id(), b.handle.id()));
        return order;
    }

    private void run(Call call) {
        try {
            batch.feed(call.n, call.batchRows, call.tokens, call.layers.indices(), call.logitsIndex, logits);
        } catch (RuntimeException e) {
            for (Job job : call.jobs) {
                if (rows[job.row] == job) {
                    free(job);
                    finishFailed(job, e);
                }
            }
            return;
        }
        int vocab = config.vocabSize();
        for (int i = 0; i < call.n; i++) {
            if (call.logitsIndex[i] < 0) {
                continue;
            }
            Job job = rows[call.batchRows[i]];
            System.arraycopy(logits, call.logitsIndex[i] * vocab, rowLogits, 0, vocab);
            try {
                int token = job.generation.next(rowLogits);
                generatedTokens.incrementAndGet();
                if (job.firstToken == 0) {
                    job.firstToken = System.nanoTime();
                }
                if (job.generation.done()) {
                    free(job);
                    finishCompleted(job);
                } else {
                    job.pending = token;
                }
            } catch (RuntimeException e) {  // a listener's error ends its own request only
                free(job);
                finishFailed(job, e);
            }
        }
    }

    /** Frees a job's row (before its result completes, so a caller who sees the result sees the row free). */
    private void free(Job job) {
        rows[job.row] = null;
        batch.truncate(job.row, 0);
        job.pending = -1;
        activeRows = rows.length - freeRows();
    }

    private void finishCompleted(Job job) {
        long end = System.nanoTime();
        GenerationResult.Timing timing = new GenerationResult.Timing((job.firstToken - job.admitted) / 1e6,
                (end - job.firstToken) / 1e6, Math.max(0, job.generation.generatedCount() - 1));
        completed.incrementAndGet();
        job.handle.result().complete(job.generation.result(timing));
    }

    private void finishCancelled(Job job) {
        cancelled.incrementAndGet();
        job.handle.result().completeExceptionally(
                new GenerationCancelledException(Math.max(0, job.generation.generatedCount() - 1)));
    }

    private void finishFailed(Job job, Throwable e) {
        failed.incrementAndGet();
        job.handle.result().completeExceptionally(e);
    }

    private void failEverything(Throwable e) {
        for (Job job : rows) {
            if (job != null) {
                rows[job.row] = null;
                finishFailed(job, e);
            }
        }
    }

    /** The loop's last act: whatever is still waiting or running is cancelled, so no result is left open. */
    private void cancelEverything() {
        lock.lock();
        try {
            accepting = false;
            stopping = true;
            for (Job job : rows) {
                if (job != null) {
                    rows[job.row] = null;
                    finishCancelled(job);
                }
            }
            while (!waiting.isEmpty()) {
                finishCancelled(waiting.pollFirst());
            }
            activeRows = 0;
            idle.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** One request in the engine. */
    private final class Job {
        final SequenceGeneration generation;
        final RequestHandle handle;
        int row = -1;
        /** Prompt tokens already fed. */
        int prefilled;
        /** The latest generated token, not yet fed; -1 before the first. */
        int pending = -1;
        long admitted;
        long firstToken;

        Job(SequenceGeneration generation) {
            this.generation = generation;
            this.handle = new RequestHandle(ids.incrementAndGet(), generation.prompt().length, this::onCancel);
        }

        private void onCancel() {
            lock.lock();
            try {
                wake.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The entries of one forward call: tokens of several rows through one layer set. */
    private final class Call {
        final RetainedLayers layers;
        final List<Job> jobs = new ArrayList<>();
        int[] batchRows = new int[16];
        int[] tokens = new int[16];
        int[] logitsIndex = new int[16];
        int n;

        Call(RetainedLayers layers) {
            this.layers = layers;
        }

        void add(Job job, int token, boolean wantLogits) {
            if (n == tokens.length) {
                batchRows = Arrays.copyOf(batchRows, 2 * n);
                tokens = Arrays.copyOf(tokens, 2 * n);
                logitsIndex = Arrays.copyOf(logitsIndex, 2 * n);
            }
            if (jobs.isEmpty() || jobs.get(jobs.size() - 1) != job) {
                jobs.add(job);
            }
            batchRows[n] = job.row;
            tokens[n] = token;
            logitsIndex[n] = wantLogits ? job.row : -1;
            n++;
        }
    }
}
