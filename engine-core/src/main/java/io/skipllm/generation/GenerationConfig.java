package io.skipllm.generation;

import io.skipllm.BadInputException;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * How to generate, in the spirit of Hugging Face's {@code GenerationConfig}: immutable, built with
 * {@link #builder()}, every value checked by {@link Builder#build()} so that a bad request fails
 * before any forward pass, with a {@link BadInputException} naming the field.
 *
 * <p>Decoding mode, as in Hugging Face: {@code numBeams > 1} is beam search; otherwise
 * {@code doSample} chooses multinomial sampling over greedy search. Defaults follow Hugging Face:
 * greedy, 64 new tokens, stop at the model's EOS ids, no repetition penalty, no n-gram blocking,
 * length penalty 1.0, full depth (unified at speedup 1.0 keeps every layer).
 *
 * <p>{@code topK} defaults to 50 as in Hugging Face; like there it only acts when sampling (greedy and
 * beam search ignore temperature, top-k and top-p). 0 switches top-k off.
 */
public final class GenerationConfig {

    private final int maxNewTokens;
    private final List<Integer> stopTokenIds;
    private final List<String> stopStrings;
    private final SkipStrategy strategy;
    private final double speedup;
    private final RetainedLayers retainedLayers;
    private final int numBeams;
    private final double lengthPenalty;
    private final boolean earlyStopping;
    private final int noRepeatNgramSize;
    private final int numReturnSequences;
    private final double temperature;
    private final int topK;
    private final double topP;
    private final double repetitionPenalty;
    private final boolean doSample;
    private final Long seed;
    private final boolean lossless;
    private final int draftTokens;

    private GenerationConfig(Builder b) {
        this.maxNewTokens = b.maxNewTokens;
        this.stopTokenIds = b.stopTokenIds == null ? null : List.copyOf(b.stopTokenIds);
        this.stopStrings = List.copyOf(b.stopStrings);
        this.strategy = b.strategy;
        this.speedup = b.speedup;
        this.retainedLayers = b.retainedLayers;
        this.numBeams = b.numBeams;
        this.lengthPenalty = b.lengthPenalty;
        this.earlyStopping = b.earlyStopping;
        this.noRepeatNgramSize = b.noRepeatNgramSize;
        this.numReturnSequences = b.numReturnSequences;
        this.temperature = b.temperature;
        this.topK = b.topK;
        this.topP = b.topP;
        this.repetitionPenalty = b.repetitionPenalty;
        this.doSample = b.doSample;
        this.seed = b.seed;
        this.lossless = b.lossless;
        this.draftTokens = b.draftTokens;
    }

    /** The defaults (greedy, 64 new tokens, full depth). */
    public static GenerationConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's values, to derive a variant. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxNewTokens = maxNewTokens;
        b.stopTokenIds = stopTokenIds;
        b.stopStrings = stopStrings;
        b.strategy = strategy;
        b.speedup = speedup;
        b.retainedLayers = retainedLayers;
        b.numBeams = numBeams;
        b.lengthPenalty = lengthPenalty;
        b.earlyStopping = earlyStopping;
        b.noRepeatNgramSize = noRepeatNgramSize;
        b.numReturnSequences = numReturnSequences;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.repetitionPenalty = repetitionPenalty;
        b.doSample = doSample;
        b.seed = seed;
        b.lossless = lossless;
        b.draftTokens = draftTokens;
        return b;
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    /** Token ids that end a sequence; null means the model's {@code eos_token_id}s. */
    public List<Integer> stopTokenIds() {
        return stopTokenIds;
    }

    /** Texts that end a sequence once its generated text contains one (needs a tokenizer). */
    public List<String> stopStrings() {
        return stopStrings;
    }

    /** The planner strategy, used when no explicit {@link #retainedLayers()} is set. */
    public SkipStrategy strategy() {
        return strategy;
    }

    public double speedup() {
        return speedup;
    }

    /** An explicit retained layer set, or null to plan one from {@link #strategy()} and {@link #speedup()}. */
    public RetainedLayers retainedLayers() {
        return retainedLayers;
    }

    /** The layers response tokens run through on a model of {@code numLayers} layers. */
    public RetainedLayers resolveRetained(int numLayers) {
        if (retainedLayers != null) {
            return retainedLayers.requireWithin(numLayers);
        }
        return LayerSkipPlanner.plan(strategy, numLayers, speedup);
    }

    public int numBeams() {
        return numBeams;
    }

    public double lengthPenalty() {
        return lengthPenalty;
    }

    public boolean earlyStopping() {
        return earlyStopping;
    }

    public int noRepeatNgramSize() {
        return noRepeatNgramSize;
    }

    public int numReturnSequences() {
        return numReturnSequences;
    }

    public double temperature() {
        return temperature;
    }

    public int topK() {
        return topK;
    }

    public double topP() {
        return topP;
    }

    public double repetitionPenalty() {
        return repetitionPenalty;
    }

    public boolean doSample() {
        return doSample;
    }

    /** The sampling seed; empty means a fresh random seed per {@link Generator#generate} call. */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    /**
     * Self-speculative decoding: the skip plan's retained layers draft {@link #draftTokens()} tokens per
     * row and the full network verifies them in one pass, so the output is full-depth generation's
     * (greedy: token for token; sampling: in distribution) and only the speed depends on the plan.
     */
    public boolean lossless() {
        return lossless;
    }

    /** Tokens drafted per verification in {@link #lossless()} mode. */
    public int draftTokens() {
        return draftTokens;
    }

    /** True for beam search ({@code numBeams > 1}). */
    public boolean isBeamSearch() {
        return numBeams > 1;
    }

    @Override
    public String toString() {
        return "GenerationConfig{maxNewTokens=" + maxNewTokens + ", stopTokenIds=" + stopTokenIds
                + ", stopStrings=" + stopStrings + ", " + (retainedLayers != null ? "retained=" + retainedLayers
                : "strategy=" + strategy + ", speedup=" + speedup) + ", numBeams=" + numBeams
                + ", lengthPenalty=" + lengthPenalty + ", earlyStopping=" + earlyStopping
                + ", noRepeatNgramSize=" + noRepeatNgramSize + ", numReturnSequences=" + numReturnSequences
                + ", doSample=" + doSample + ", temperature=" + temperature + ", topK=" + topK + ", topP=" + topP
                + ", repetitionPenalty=" + repetitionPenalty + ", seed=" + seed
                + (lossless ? ", lossless, draftTokens=" + draftTokens : "") + "}";
    }

    /** Tokens drafted per verification in lossless mode unless set. */
    public static final int DEFAULT_DRAFT_TOKENS = 4;
    /** The most tokens one verification pass checks per row (bounds the cache's extra room). */
    public static final int MAX_DRAFT_TOKENS = 16;

    /**
     * A list of draft lengths to compare (bench, eval rows), checked: not empty, each within
     * 1..{@value #MAX_DRAFT_TOKENS}, none twice; returns an unmodifiable copy.
     *
     * @param option how errors name the list, e.g. {@code --draft-tokens}
     * @throws BadInputException naming the problem
     */
    public static List<Integer> draftTokenList(List<Integer> values, String option) {
        List<Integer> copy = List.copyOf(values);
        if (copy.isEmpty()) {
            throw new BadInputException(option + ": the list is empty");
        }
        for (int k : copy) {
            if (k < 1 || k > MAX_DRAFT_TOKENS) {
                throw new BadInputException(option + ": each must be within 1.." + MAX_DRAFT_TOKENS + ", got " + k);
            }
        }
        if (copy.stream().distinct().count() != copy.size()) {
            throw new BadInputException(option + ": a draft length is listed twice");
        }
        return copy;
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private int maxNewTokens = 64;
        private List<Integer> stopTokenIds;
        private List<String> stopStrings = List.of();
        private SkipStrategy strategy = SkipStrategy.UNIFIED;
        private double speedup = 1.0;
        private RetainedLayers retainedLayers;
        private int numBeams = 1;
        private double lengthPenalty = 1.0;
        private boolean earlyStopping;
        private int noRepeatNgramSize;
        private int numReturnSequences = 1;
        private double temperature = 1.0;
        private int topK = 50;
        private double topP = 1.0;
        private double repetitionPenalty = 1.0;
        private boolean doSample;
        private Long seed;
        private boolean lossless;
        private int draftTokens = DEFAULT_DRAFT_TOKENS;

        private Builder() {
        }

        public Builder maxNewTokens(int value) {
            this.maxNewTokens = value;
            return this;
        }

        /** Stop token ids; null restores the default (the model's EOS ids), empty means none. */
        public Builder stopTokenIds(List<Integer> ids) {
            this.stopTokenIds = ids;
            return this;
        }

        public Builder stopTokenIds(int... ids) {
            this.stopTokenIds = java.util.Arrays.stream(ids).boxed().toList();
            return this;
        }

        public Builder stopStrings(List<String> strings) {
            this.stopStrings = strings == null ? List.of() : strings;
            return this;
        }

        /** Plans the retained layers with {@code strategy} at {@code speedup} (clears an explicit set). */
        public Builder skipPlan(SkipStrategy strategy, double speedup) {
            this.strategy = strategy;
            this.speedup = speedup;
            this.retainedLayers = null;
            return this;
        }

        /** Uses an explicit retained layer set; null returns to the planned one. */
        public Builder retainedLayers(RetainedLayers layers) {
            this.retainedLayers = layers;
            return this;
        }

        /** Every layer for every token (no skipping). */
        public Builder fullDepth() {
            return skipPlan(SkipStrategy.FULL, 1.0);
        }

        public Builder numBeams(int value) {
            this.numBeams = value;
            return this;
        }

        /** Exponent of the length in {@code score = logprob / length^lengthPenalty}; negative favours short. */
        public Builder lengthPenalty(double value) {
            this.lengthPenalty = value;
            return this;
        }

        /** Beam search stops a prompt as soon as {@code numBeams} hypotheses are finished (HF {@code True}). */
        public Builder earlyStopping(boolean value) {
            this.earlyStopping = value;
            return this;
        }

        public Builder noRepeatNgramSize(int value) {
            this.noRepeatNgramSize = value;
            return this;
        }

        public Builder numReturnSequences(int value) {
            this.numReturnSequences = value;
            return this;
        }

        public Builder temperature(double value) {
            this.temperature = value;
            return this;
        }

        public Builder topK(int value) {
            this.topK = value;
            return this;
        }

        public Builder topP(double value) {
            this.topP = value;
            return this;
        }

        public Builder repetitionPenalty(double value) {
            this.repetitionPenalty = value;
            return this;
        }

        public Builder doSample(boolean value) {
            this.doSample = value;
            return this;
        }

        /** The sampling seed; null means a fresh random one per call. */
        public Builder seed(Long value) {
            this.seed = value;
            return this;
        }

        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /**
         * Lossless mode (self-speculative decoding): the skip plan drafts, the full network verifies;
         * see {@link GenerationConfig#lossless()}.
         */
        public Builder lossless(boolean value) {
            this.lossless = value;
            return this;
        }

        /** Tokens drafted per verification pass in lossless mode (1..{@value #MAX_DRAFT_TOKENS}). */
        public Builder draftTokens(int value) {
            this.draftTokens = value;
            return this;
        }

        /** Validates every value and returns the configuration. */
        public GenerationConfig build() {
            if (maxNewTokens < 1) {  // a request for nothing is almost always a caller's bug
                throw bad("maxNewTokens", "must be >= 1, got " + maxNewTokens);
            }
            if (stopTokenIds != null) {
                for (Integer id : stopTokenIds) {
                    if (id == null || id < 0) {
                        throw bad("stopTokenIds", "token ids must be >= 0, got " + id);
                    }
                }
            }
            for (String s : stopStrings) {
                if (s == null || s.isEmpty()) {
                    throw bad("stopStrings", "a stop string must not be empty");
                }
            }
            if (retainedLayers == null) {
                Objects.requireNonNull(strategy, "strategy");
                if (!Double.isFinite(speedup) || speedup < 1.0) {
                    throw bad("speedup", "must be a finite number >= 1 (1 keeps every layer), got " + speedup);
                }
            }
            if (numBeams < 1) {
                throw bad("numBeams", "must be >= 1, got " + numBeams);
            }
            if (!Double.isFinite(lengthPenalty)) {
                throw bad("lengthPenalty", "must be a finite number, got " + lengthPenalty);
            }
            if (noRepeatNgramSize < 0) {
                throw bad("noRepeatNgramSize", "must be >= 0 (0 switches it off), got " + noRepeatNgramSize);
            }
            if (numReturnSequences < 1) {
                throw bad("numReturnSequences", "must be >= 1, got " + numReturnSequences);
            }
            if (numBeams > 1 && numReturnSequences > numBeams) {
                throw bad("numReturnSequences", "must be <= numBeams (" + numBeams + "), got " + numReturnSequences);
            }
            if (numBeams == 1 && !doSample && numReturnSequences > 1) {
                throw bad("numReturnSequences", "greedy search returns one sequence; got " + numReturnSequences
                        + " (use numBeams or doSample for more)");
            }
            if (Double.isNaN(temperature) || Double.isInfinite(temperature) || temperature < 0
                    || (doSample && temperature == 0)) {
                throw bad("temperature", "must be a finite number > 0 when sampling, got " + temperature);
            }
            if (topK < 0) {
                throw bad("topK", "must be >= 0 (0 switches it off), got " + topK);
            }
            if (Double.isNaN(topP) || topP <= 0 || topP > 1) {
                throw bad("topP", "must be in (0, 1], got " + topP);
            }
            if (!Double.isFinite(repetitionPenalty) || repetitionPenalty <= 0) {
                throw bad("repetitionPenalty", "must be a finite number > 0 (1 switches it off), got "
                        + repetitionPenalty);
            }
            if (doSample && numBeams > 1) {
                throw bad("doSample", "sampling cannot be combined with numBeams > 1 (beam sampling is not supported)");
            }
            if (draftTokens < 1 || draftTokens > MAX_DRAFT_TOKENS) {
                throw bad("draftTokens", "must be within 1.." + MAX_DRAFT_TOKENS + ", got " + draftTokens);
            }
            if (lossless && numBeams > 1) {
                throw bad("lossless", "self-speculative decoding runs greedy search or sampling, not beam search "
                        + "(numBeams " + numBeams + ")");
            }
            return new GenerationConfig(this);
        }

        private static BadInputException bad(String field, String problem) {
            return new BadInputException("generation config: " + field + " " + problem);
        }
    }
}
