package io.skipllm.bench;

import io.skipllm.model.CausalLm;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.RandomModels;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One decode step (one token per row through the retained layers, plus the LM head) of a random
 * LLaMA-shaped model, per weight format, strategy, speedup and batch size. Run with
 * {@code java -jar engine-bench/target/benchmarks.jar DecodeStep}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class DecodeStepBenchmark {

    /** A random model with a 7B model's proportions, scaled down (see {@link RandomModels#fromSpec}). */
    @Param({"random:llama,layers=32,hidden=1024,heads=16,kv_heads=16,intermediate=2816,vocab=32000,seed=1"})
    public String model;

    @Param({"unified"})
    public String strategy;

    /** The in-memory weight format ({@code --weights}); the random values are float32 ("stored"). */
    @Param({"f32", "bf16", "f16", "q8_0"})
    public String weights;

    @Param({"1", "2", "5"})
    public double speedup;

    @Param({"1", "8"})
    public int batch;

    private static final int PROMPT = 32;
    private static final int STEPS_PER_SESSION = 256;

    private SkipAwareDecoder decoder;
    private RetainedLayers retained;
    private DecodeSession session;
    private int[] tokens;

    @Setup(Level.Trial)
    public void load() {
        CausalLm network = RandomModels.fromSpec(model, LoadOptions.parse(weights));
        decoder = new SkipAwareDecoder(network);
        retained = LayerSkipPlanner.plan(SkipStrategy.fromName(strategy), network.config().numLayers(), speedup);
        tokens = new int[batch];
        java.util.Arrays.fill(tokens, 7);
        newSession();
    }

    private void newSession() {
        if (session != null) {
            session.close();
        }
        int[][] prompts = new int[batch][PROMPT];
        for (int[] p : prompts) {
            java.util.Arrays.setAll(p, i -> 3 + i);
        }
        session = decoder.start(prompts, STEPS_PER_SESSION, retained);
    }

    @Setup(Level.Iteration)
    public void freshSession() {
        newSession();
    }

    @Benchmark
    public Object decodeStep() {
        if (session.steps() == STEPS_PER_SESSION) {
            newSession();  // rare: keeps the cache length bounded and comparable across rows
        }
        return session.decode(tokens);
    }

    @TearDown(Level.Trial)
    public void close() {
        session.close();
    }
}
