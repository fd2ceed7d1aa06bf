package io.skipllm.bench;

import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.Generator;
import io.skipllm.model.RandomModels;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.SkipStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A whole generation (prefill, then a fixed number of new tokens; no stop token so every strategy does
 * the same work) per strategy, speedup, batch size and beam count, through the public
 * {@link Generator} API. Run with {@code java -jar engine-bench/target/benchmarks.jar Generation}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class GenerationBenchmark {

    @Param({"random:llama,layers=32,hidden=1024,heads=16,kv_heads=16,intermediate=2816,vocab=32000,seed=1"})
    public String model;

    @Param({"unified", "top", "bottom"})
    public String strategy;

    @Param({"1", "2", "5"})
    public double speedup;

    @Param({"1", "8"})
    public int batch;

    @Param({"1", "4"})
    public int beams;

    private static final int PROMPT = 32;
    private static final int NEW_TOKENS = 32;

    private Generator generator;
    private GenerationConfig config;
    private List<int[]> prompts;

    @Setup
    public void load() {
        generator = new Generator(new SkipAwareDecoder(RandomModels.fromSpec(model)));
        config = GenerationConfig.builder()
                .skipPlan(SkipStrategy.fromName(strategy), speedup)
                .maxNewTokens(NEW_TOKENS)
                .stopTokenIds(List.of())
                .numBeams(beams)
                .build();
        SplittableRandom rng = new SplittableRandom(1);
        prompts = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            prompts.add(rng.ints(PROMPT, 3, 32000).toArray());
        }
    }

    @Benchmark
    public List<GenerationResult> generate() {
        return generator.generate(prompts, config, null);
    }
}
