package io.skipllm.generation;

import io.skipllm.BadInputException;
import io.skipllm.model.ModelConfig;
import io.skipllm.planner.RetainedLayers;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One generate call with everything resolved against the model and checked before any work: the
 * prompts (copied, so the caller may reuse its arrays), the retained layers, the stop tokens, the seed.
 * Errors name the prompt by its index in the caller's list, not by a batch row (beam search repeats
 * each prompt once per beam).
 */
record Request(int[][] prompts, GenerationConfig config, ModelConfig model, RetainedLayers retained,
        int[] stopTokenIds, int fillerToken, TextCodec codec, TokenStreamListener listener, long seed,
        LogitsProcessors processors) {

    static Request resolve(ModelConfig model, List<int[]> prompts, GenerationConfig config, TextCodec codec,
            TokenStreamListener listener) {
        if (config == null) {
            throw new BadInputException("generation config must not be null");
        }
        if (prompts == null || prompts.isEmpty()) {
            throw new BadInputException("no prompts given");
        }
        if (config.numBeams() > model.vocabSize()) {
            throw new BadInputException("numBeams " + config.numBeams() + " exceeds the vocabulary size "
                    + model.vocabSize() + ": there are not that many distinct continuations");
        }
        int[][] copies = new int[prompts.size()][];
        for (int i = 0; i < copies.length; i++) {
            int[] prompt = prompts.get(i);
            if (prompt == null || prompt.length == 0) {
                throw new BadInputException("prompt " + i + " is empty; a prompt needs at least one token");
            }
            for (int j = 0; j < prompt.length; j++) {
                if (prompt[j] < 0 || prompt[j] >= model.vocabSize()) {
                    throw new BadInputException("prompt " + i + ": token id " + prompt[j] + " at index " + j
                            + " is outside the model's vocabulary (0.." + (model.vocabSize() - 1) + ")");
                }
            }
            if ((long) prompt.length + config.maxNewTokens() > model.maxPositions()) {
                throw new BadInputException("prompt " + i + " has " + prompt.length + " tokens; with maxNewTokens "
                        + config.maxNewTokens() + " it needs " + ((long) prompt.length + config.maxNewTokens())
                        + " positions but the model's context is " + model.maxPositions()
                        + " (shorten the prompt or lower maxNewTokens)");
            }
            copies[i] = prompt.clone();
        }
        RetainedLayers retained = config.resolveRetained(model.numLayers());
        List<Integer> stops = config.stopTokenIds() != null ? config.stopTokenIds() : model.eosTokenIds();
        int[] stopIds = stops.stream().mapToInt(Integer::intValue).distinct().toArray();
        for (int id : stopIds) {
            if (id < 0 || id >= model.vocabSize()) {
                throw new BadInputException("stop token id " + id + " is outside the model's vocabulary (0.."
                        + (model.vocabSize() - 1) + ")");
            }
        }
        if (!config.stopStrings().isEmpty() && codec == null) {
            throw new BadInputException("generation config: stopStrings need a tokenizer and this model has none");
        }
        long seed = config.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong());
        return new Request(copies, config, model, retained, stopIds, filler(model, stopIds), codec, listener, seed,
                new LogitsProcessors(config));
    }

    /** The token finished rows keep feeding (their output is ignored): a stop token, else padding, else 0. */
    private static int filler(ModelConfig model, int[] stopIds) {
        if (stopIds.length > 0) {
            return stopIds[0];
        }
        Integer pad = model.padTokenId();
        return pad != null && pad >= 0 && pad < model.vocabSize() ? pad : 0;
    }

    boolean isStopToken(int token) {
        for (int id : stopTokenIds) {
            if (id == token) {
                return true;
            }
        }
        return false;
    }

    /** True when {@code text} (a sequence's generated text) contains one of the stop strings. */
    boolean hitsStopString(String text) {
        for (String s : config.stopStrings()) {
            if (text.contains(s)) {
                return true;
            }
        }
        return false;
    }

    boolean hasStopStrings() {
        return !config.stopStrings().isEmpty();
    }

    String decode(int[] tokens) {
        return codec == null ? null : codec.decode(tokens);
    }

    /** The prompt followed by room for every new token: a row's Hugging Face {@code input_ids}. */
    int[] sequenceBuffer(int prompt) {
        int[] buffer = new int[prompts[prompt].length + config.maxNewTokens()];
        System.arraycopy(prompts[prompt], 0, buffer, 0, prompts[prompt].length);
        return buffer;
    }
}
