package io.skipllm.eval;

import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.Generator;
import io.skipllm.generation.TextCodec;
import io.skipllm.model.SkipAwareDecoder;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Generates a hypothesis for every example under one policy, batch by batch: fixed layer sets go
 * through the {@link Generator} (greedy or beam search, exactly what {@code generate} runs),
 * self-speculative decoding through the generator's lossless mode (greedy), dynamic policies through
 * {@link ScheduledGreedy}. Stops at the model's EOS ids or after max new tokens.
 */
final class EvalDecoding {

    private EvalDecoding() {
    }

    /**
     * @param texts each example's hypothesis, decoded without special tokens and stripped
     * @param tokens each example's generated ids
     * @param layerSum layers run for the generated tokens that came from decode steps (all but each
     *     example's first, which the full-depth prompt pass predicts); self-speculative: N per token,
     *     every kept token being the full network's (verified through every layer)
     * @param layerTokens how many such tokens there are
     * @param throughputTokens tokens produced by decode steps, every live beam counted (as {@code bench})
     * @param decodeMillis time in decode loops (prefill excluded)
     * @param speculation self-speculative decoding's drafting counts summed over batches, else null
     */
    record Outcome(List<String> texts, List<int[]> tokens, long layerSum, long layerTokens, long throughputTokens,
            double decodeMillis, GenerationResult.Speculation speculation) {
    }

    static Outcome run(SkipAwareDecoder decoder, TextCodec codec, List<EncodedExample> examples, SkipPolicy policy,
            int beams, int batchSize, int maxNewTokens, Progress progress) {
        String[] texts = new String[examples.size()];
        int[][] tokens = new int[examples.size()][];
        long layerSum = 0;
        long layerTokens = 0;
        long throughputTokens = 0;
        double decodeMillis = 0;
        int[] stopIds = decoder.model().config().eosTokenIds().stream().mapToInt(Integer::intValue).toArray();
        List<int[]> batches = Batches.plan(examples.size(), i -> examples.get(i).promptLength(), i -> maxNewTokens,
                Math.min(batchSize, policy.maxBatch()), decoder.model().config().maxPositions());
        Generator generator = new Generator(decoder, codec);
        SkipPolicy.SelfSpeculative speculative = policy instanceof SkipPolicy.SelfSpeculative s ? s : null;
        GenerationConfig config;
        if (speculative != null) {
            config = GenerationConfig.builder().retainedLayers(speculative.draftLayers()).lossless(true)
                    .draftTokens(speculative.draftTokens()).numBeams(beams).maxNewTokens(maxNewTokens).build();
        } else {
            config = policy.fixedLayers() == null ? null : GenerationConfig.builder()
                    .retainedLayers(policy.fixedLayers()).numBeams(beams).maxNewTokens(maxNewTokens).build();
        }
        GenerationResult.Speculation speculation = null;
        int done = 0;
        for (int[] batch : batches) {
            List<int[]> prompts = new ArrayList<>();
            for (int i : batch) {
                prompts.add(examples.get(i).prompt());
            }
            if (config != null) {
                List<GenerationResult> results = generator.generate(prompts, config, null);
                int layers = speculative != null ? speculative.numLayers() : policy.fixedLayers().size();
                for (int r = 0; r < batch.length; r++) {
                    tokens[batch[r]] = results.get(r).tokens();
                    layerSum += (long) Math.max(0, tokens[batch[r]].length - 1) * layers;
                }
                if (speculative != null) {
                    GenerationResult.Speculation s = results.get(0).speculation();  // shared by the batch
                    speculation = speculation == null ? s : speculation.plus(s);
                }
                GenerationResult.Timing timing = results.get(0).timing();  // shared by the batch
                throughputTokens += timing.decodeTokens();
                decodeMillis += timing.decodeMillis();
            } else {
                ScheduledGreedy.Output out = ScheduledGreedy.run(decoder, prompts.toArray(int[][]::new), policy,
                        maxNewTokens, stopIds);
                for (int r = 0; r < batch.length; r++) {
                    tokens[batch[r]] = out.tokens()[r];
                }
                layerSum += out.layerSum();
                throughputTokens += out.decodeTokens();
                decodeMillis += out.decodeMillis();
            }
            for (int i : batch) {
                texts[i] = codec.decode(tokens[i]).strip();
                layerTokens += Math.max(0, tokens[i].length - 1);
            }
            done += batch.length;
            progress.update(done, examples.size());
        }
        return new Outcome(List.of(texts), List.of(tokens), layerSum, layerTokens, throughputTokens, decodeMillis,
                speculation);
    }

    /** Rate-limited progress lines on stderr. */
    static final class Progress {
        private final PrintStream out;
        private final String label;
        private long last = System.nanoTime();

        Progress(PrintStream out, String label) {
            this.out = out;
            this.label = label;
        }

        void update(int done, int total) {
            long now = System.nanoTime();
            if (out != null && (now - last > 10_000_000_000L || done == total)) {
                out.printf("eval: %s: %d/%d examples%n", label, done, total);
                out.flush();
                last = now;
            }
        }
    }
}
