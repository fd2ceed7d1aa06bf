package io.skipllm.weights;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits a {@link RowTask}'s output rows over threads with a hand-off cheap enough for a decode step's
 * many small products (an executor's submit-and-wait costs 60-90 us a product, more than the product).
 *
 * <p>The calling thread publishes the product and computes chunks itself; daemon workers, which spin
 * for a while after each product before parking, take the other chunks. Chunks are claimed from a
 * counter, so a worker that wakes late (or never, on a busy machine) costs nothing: the caller takes
 * its chunk. One product at a time: a second caller that finds the workers busy computes its product
 * alone rather than wait.
 */
final class ParallelRows {

    /**
     * Chunks per thread: a worker that wakes late (parked, or its core busy) leaves its chunks to the
     * others instead of making them wait (measured: with one chunk per thread the caller spent a quarter
     * of a decode step waiting for the worker's half).
     */
    private static final int CHUNKS_PER_THREAD = 4;
    /** Chunks start at multiples of this many rows (the kernels' tiles are four rows). */
    private static final int CHUNK_ALIGN = 4;

    /** How long an idle worker spins before parking: a decode step's next product usually comes sooner. */
    private static final long SPIN_NANOS = 100_000;

    private final int threads;
    private final long minParallelWork;
    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    /** The product being shared out, null between products. */
    private volatile Job current;
    private long jobs;

    /**
     * @param threads threads per product, the caller included
     * @param minParallelWork products with fewer multiply-adds than this run on the calling thread alone
     */
    ParallelRows(int threads, long minParallelWork) {
        this.threads = Math.max(1, threads);
        this.minParallelWork = minParallelWork;
        this.workers = new Worker[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("skipllm-matmul-" + (i + 1));
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /** Computes all {@code rows} output rows of {@code task}, which takes {@code work} multiply-adds. */
    void run(RowTask task, int rows, long work) {
        if (threads == 1 || rows < 2 || work < minParallelWork || !busy.compareAndSet(false, true)) {
            task.compute(0, rows);
            return;
        }
        Job job = new Job(++jobs, task, rows, Math.max(1, Math.min(rows / CHUNK_ALIGN, threads * CHUNKS_PER_THREAD)));
        try {
            current = job;
            for (Worker w : workers) {
                w.wake();
            }
            job.help();
            job.awaitChunks();
        } finally {
            current = null;
            busy.set(false);
        }
        job.rethrow();
    }

    /** One product cut into chunks of consecutive rows, which any thread may claim. */
    private static final class Job {
        final long id;
        private final RowTask task;
        private final int rows;
        private final int chunks;
        private final AtomicInteger claimed = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private volatile Throwable failure;

        Job(long id, RowTask task, int rows, int chunks) {
            this.id = id;
            this.task = task;
            this.rows = rows;
            this.chunks = chunks;
        }

        /** Computes chunks until none is left to claim. */
        void help() {
            for (int c = claimed.getAndIncrement(); c < chunks; c = claimed.getAndIncrement()) {
                try {
                    task.compute(start(c), start(c + 1));
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    finished.incrementAndGet();
                }
            }
        }

        private int start(int chunk) {
            return chunk == chunks ? rows : (int) ((long) rows * chunk / chunks) & -CHUNK_ALIGN;
        }

        /** Waits for chunks other threads claimed; yields the core if they take long (it may be theirs). */
        void awaitChunks() {
            for (int spins = 0; finished.get() < chunks; spins++) {
                if (spins < 10_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }

        void rethrow() {
            Throwable t = failure;
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
        }
    }

    private final class Worker extends Thread {
        /** Set while parked (or about to be), so that a caller knows to unpark. */
        private volatile boolean sleeping;
        private long lastJob;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void wake() {
            if (sleeping) {
                LockSupport.unpark(this);
            }
        }

        @Override
        public void run() {
            while (true) {
                Job job = awaitJob();
                lastJob = job.id;
                job.help();
            }
        }

        private Job awaitJob() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (true) {
                Job job = current;
                if (job != null && job.id != lastJob) {
                    return job;
                }
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                // Dekker-style with the caller, which writes current and then reads sleeping: either
                // this thread sees the new job here, or the caller sees sleeping and unparks it.
                sleeping = true;
                job = current;
                if (job == null || job.id == lastJob) {
                    LockSupport.park(this);
                }
                sleeping = false;
                spinUntil = System.nanoTime() + SPIN_NANOS;
            }
        }
    }
}
