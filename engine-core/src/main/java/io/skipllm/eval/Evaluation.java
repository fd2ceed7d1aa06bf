package io.skipllm.eval;

import io.skipllm.BadInputException;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.TextCodec;
import io.skipllm.model.ModelConfig;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.RetainedLayers;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The evaluation of issue 5 (paper Table 3 on our model): for each strategy and target speedup,
 * generate a translation of every example and report corpus BLEU and chrF against the references,
 * the teacher-forced response loss under the same skip policy, the layers actually run per token and
 * the decode throughput.
 *
 * <h2>Activated layers</h2>
 * {@code activatedLayers} is the mean number of layers run per generated token, over the tokens that
 * come from decode steps: every generated token except each hypothesis' first, which the full-depth
 * prompt pass predicts for every strategy alike. This is what {@code bench} reports and what the paper
 * lists as "#Actual Activated Layer" (unified 2x on 30 layers: exactly 15.0), so a static set gives
 * exactly its size. {@code activatedLayersAllTokens} counts the first token too, at full depth (the
 * view of {@link io.skipllm.generation.GenerationResult#layersPerToken}); it differs for short outputs.
 *
 * <h2>Self-speculative rows</h2>
 * One per speedup and draft length K: the unified set at r drafts, every layer verifies, greedy (with
 * {@code beams > 1} the row is unsupported, as for the dynamic strategies). The output is full-depth
 * greedy's, so BLEU and chrF equal the full row's, and the loss is the full network's (teacher-forced
 * at full depth). {@code activatedLayers} is N: every kept token is the full network's, verified
 * through every layer (as {@link io.skipllm.generation.GenerationResult#layersPerToken} counts it);
 * the cost of drafting shows in {@code tokensPerS}, the acceptance figures and {@code bench}'s
 * weight-read equivalent.
 */
public final class Evaluation {

    /**
     * What to evaluate.
     *
     * @param strategies names from {@link Strategies#NAMES}, in report order
     * @param speedups target speedups (each finite, >= 1); {@code full} gets one row at 1
     * @param beams 1 for greedy search, more for beam search (fixed layer sets only)
     * @param batchSize examples decoded together
     * @param maxNewTokens generation length limit
     * @param examplesShown how many (first) examples each row carries with its hypothesis
     * @param draftTokens draft lengths of the {@code self-speculative} rows (one row each per speedup)
     */
    public record Options(List<String> strategies, List<Double> speedups, int beams, int batchSize, int maxNewTokens,
            int examplesShown, List<Integer> draftTokens) {

        public Options {
            strategies = List.copyOf(strategies);
            speedups = List.copyOf(speedups);
            draftTokens = GenerationConfig.draftTokenList(draftTokens, "--draft-tokens");
            Strategies.requireValid(strategies);
            if (speedups.isEmpty()) {
                throw new BadInputException("--speedups: the list is empty");
            }
            for (double r : speedups) {
                if (!(r >= 1) || Double.isInfinite(r)) {
                    throw new BadInputException("--speedups: each must be a finite number >= 1, got " + r);
                }
            }
            if (new LinkedHashSet<>(speedups).size() != speedups.size()) {
                throw new BadInputException("--speedups: a speedup is listed twice");
            }
            requirePositive("--beams", beams);
            requirePositive("--batch-size", batchSize);
            requirePositive("--max-new-tokens", maxNewTokens);
            if (examplesShown < 0) {
                throw new BadInputException("--examples must be >= 0, got " + examplesShown);
            }
        }

        /** Options whose {@code self-speculative} rows draft {@link GenerationConfig#DEFAULT_DRAFT_TOKENS}. */
        public Options(List<String> strategies, List<Double> speedups, int beams, int batchSize, int maxNewTokens,
                int examplesShown) {
            this(strategies, speedups, beams, batchSize, maxNewTokens, examplesShown,
                    List.of(GenerationConfig.DEFAULT_DRAFT_TOKENS));
        }

        private static void requirePositive(String option, int value) {
            if (value < 1) {
                throw new BadInputException(option + " must be >= 1, got " + value);
            }
        }

        public boolean needsDevSet() {
            return strategies.contains("greedy");
        }
    }

    /** One example's output. */
    public record Sample(String id, String source, String reference, String hypothesis) {
    }

    /**
     * One strategy at one speedup. Generation figures are null when {@code supported} is false (a
     * dynamic or self-speculative strategy with beam search); the loss is reported either way.
     *
     * @param retained the fixed set (self-speculative: the draft set), or null for a dynamic strategy
     * @param details the dynamic strategy's parameters (SkipDecode bounds, early-exit threshold)
     * @param draftTokens self-speculative rows' draft length K, else null
     * @param speculation self-speculative rows' drafting counts over the whole set, else (or when not
     *     supported) null
     */
    public record Row(String strategy, double speedup, boolean supported, RetainedLayers retained,
            Map<String, Object> details, Double activatedLayers, Double activatedLayersAllTokens, Bleu.Score bleu,
            Chrf.Score chrf, ResponseLoss.Result loss, Double tokensPerS, Double meanOutputTokens,
            Double generationSeconds, double lossSeconds, List<Sample> samples, Integer draftTokens,
            GenerationResult.Speculation speculation) {

        /** A row of a strategy other than {@code self-speculative}. */
        public Row(String strategy, double speedup, boolean supported, RetainedLayers retained,
                Map<String, Object> details, Double activatedLayers, Double activatedLayersAllTokens, Bleu.Score bleu,
                Chrf.Score chrf, ResponseLoss.Result loss, Double tokensPerS, Double meanOutputTokens,
                Double generationSeconds, double lossSeconds, List<Sample> samples) {
            this(strategy, speedup, supported, retained, details, activatedLayers, activatedLayersAllTokens, bleu,
                    chrf, loss, tokensPerS, meanOutputTokens, generationSeconds, lossSeconds, samples, null, null);
        }

        /** The row's label in progress lines and tables: strategy, speedup, draft length. */
        public String label() {
            return Evaluation.label(strategy, speedup, draftTokens);
        }
    }

    /** The whole run; {@code greedySearch} is null when {@code greedy} was not requested. */
    public record Report(int examplesCount, List<Row> rows, GreedyLayerSearch.Result greedySearch) {
    }

    private final SkipAwareDecoder decoder;
    private final TextCodec codec;

    /** @param codec decodes generated ids to text without special tokens */
    public Evaluation(SkipAwareDecoder decoder, TextCodec codec) {
        this.decoder = decoder;
        this.codec = codec;
    }

    /**
     * Runs every row. Everything that can be checked is checked before the first forward pass.
     *
     * @param data the examples, with {@code encoded} their prompts and responses (same order)
     * @param dev the dev split for the greedy search and early-exit calibration; may be null unless
     *     {@code greedy} is requested
     * @param progress progress lines, or null
     */
    public Report run(List<TranslationExample> data, List<EncodedExample> encoded, List<EncodedExample> dev,
            Options options, PrintStream progress) {
        if (data.isEmpty() || data.size() != encoded.size()) {
            throw new BadInputException("evaluation needs examples, each with its encoding; got " + data.size()
                    + " examples and " + encoded.size() + " encodings");
        }
        if (options.needsDevSet() && (dev == null || dev.isEmpty())) {
            throw new BadInputException("the greedy strategy needs a dev set (--dev FILE) to search on");
        }
        ModelConfig config = decoder.model().config();
        if (options.beams() > config.vocabSize()) {
            throw new BadInputException("--beams " + options.beams() + " exceeds the vocabulary size " + config.vocabSize());
        }
        requireFit(data, encoded, options.maxNewTokens(), config);
        if (dev != null) {
            for (int i = 0; i < dev.size(); i++) {
                ResponseLoss.requireFits(dev.get(i), config, "dev example " + i);
            }
        }
        GreedyLayerSearch.Result greedy = null;
        if (options.needsDevSet()) {
            Set<Integer> sizes = new LinkedHashSet<>();
            options.speedups().forEach(r -> sizes.add(Strategies.greedyTargetSize(config.numLayers(), r)));
            greedy = GreedyLayerSearch.search(decoder, dev, sizes, options.batchSize(), progress);
        }
        int[] calibration = (dev != null && !dev.isEmpty() ? dev : encoded).get(0).prompt();
        Strategies strategies = new Strategies(decoder, greedy, calibration, options.maxNewTokens());
        List<Row> rows = new ArrayList<>();
        for (String strategy : options.strategies()) {
            for (double speedup : strategy.equals("full") ? List.of(1.0) : options.speedups()) {
                if (strategy.equals(Strategies.SELF_SPECULATIVE)) {
                    for (int k : options.draftTokens()) {
                        rows.add(row(strategy, speedup, strategies.policy(strategy, speedup, k), data, encoded, options,
                                progress));
                    }
                } else {
                    rows.add(row(strategy, speedup, strategies.policy(strategy, speedup, 0), data, encoded, options,
                            progress));
                }
            }
        }
        return new Report(data.size(), rows, greedy);
    }

    private static void requireFit(List<TranslationExample> data, List<EncodedExample> encoded, int maxNewTokens,
            ModelConfig config) {
        for (int i = 0; i < encoded.size(); i++) {
            EncodedExample e = encoded.get(i);
            String what = "example " + data.get(i).id();
            if ((long) e.promptLength() + maxNewTokens > config.maxPositions()) {
                throw new BadInputException(what + ": its prompt of " + e.promptLength() + " tokens plus "
                        + maxNewTokens + " new tokens exceeds the model's context of " + config.maxPositions()
                        + " (lower --max-new-tokens)");
            }
            ResponseLoss.requireFits(e, config, what);
        }
    }

    /** A row's name in progress lines and tables: strategy, speedup, draft length (K, or null). */
    static String label(String strategy, double speedup, Integer draftTokens) {
        return strategy + (strategy.equals("full") ? "" : " " + speedup + "x")
                + (draftTokens == null ? "" : " k=" + draftTokens);
    }

    private Row row(String strategy, double speedup, SkipPolicy policy, List<TranslationExample> data,
            List<EncodedExample> encoded, Options options, PrintStream progress) {
        SkipPolicy.SelfSpeculative speculative = policy instanceof SkipPolicy.SelfSpeculative s ? s : null;
        Integer draftTokens = speculative == null ? null : speculative.draftTokens();
        RetainedLayers shown = speculative != null ? speculative.draftLayers() : policy.fixedLayers();
        String label = label(strategy, speedup, draftTokens);
        log(progress, "eval: " + label + ": layers " + (speculative != null ? "draft " + shown + ", verify all"
                : shown != null ? shown : policy.details()));
        boolean supported = options.beams() == 1 || Strategies.supportsBeams(strategy);
        GenerationResult.Speculation speculation = null;
        Double activated = null;
        Double activatedAll = null;
        Bleu.Score bleu = null;
        Chrf.Score chrf = null;
        Double tokensPerS = null;
        Double meanOutput = null;
        Double generationSeconds = null;
        List<Sample> samples = List.of();
        int numLayers = decoder.model().config().numLayers();
        if (supported) {
            long start = System.nanoTime();
            EvalDecoding.Outcome out = EvalDecoding.run(decoder, codec, encoded, policy, options.beams(),
                    options.batchSize(), options.maxNewTokens(), new EvalDecoding.Progress(progress, label));
            generationSeconds = (System.nanoTime() - start) / 1e9;
            List<String> references = data.stream().map(TranslationExample::reference).toList();
            bleu = Bleu.corpus(out.texts(), references);
            chrf = Chrf.corpus(out.texts(), references);
            long generated = out.tokens().stream().mapToLong(t -> t.length).sum();
            long withTokens = out.tokens().stream().filter(t -> t.length > 0).count();
            if (out.layerTokens() > 0) {
                activated = (double) out.layerSum() / out.layerTokens();
            } else if (policy.fixedLayers() != null) {
                activated = (double) policy.fixedLayers().size();  // nothing decoded: the set is the answer
            }
            activatedAll = generated == 0 ? null : (double) (out.layerSum() + withTokens * numLayers) / generated;
            tokensPerS = out.decodeMillis() > 0 ? out.throughputTokens() * 1000.0 / out.decodeMillis() : null;
            meanOutput = (double) generated / data.size();
            samples = samples(data, out, options);
            speculation = out.speculation();
        } else {
            log(progress, "eval: " + label + ": generation not supported with --beams > 1 ("
                    + (speculative != null ? "lossless self-speculative decoding is greedy" : "the depth changes per token")
                    + ")");
        }
        long lossStart = System.nanoTime();
        ResponseLoss.Result loss = ResponseLoss.compute(decoder, encoded, policy, options.batchSize());
        double lossSeconds = (System.nanoTime() - lossStart) / 1e9;
        log(progress, String.format("eval: %s: BLEU %s chrF %s loss %.4f layers %s%s (generation %s s, loss %.1f s)",
                label, bleu == null ? "n/a" : String.format("%.2f", bleu.score()),
                chrf == null ? "n/a" : String.format("%.2f", chrf.score()), loss.meanNats(),
                activated == null ? "n/a" : String.format("%.2f", activated),
                speculation == null ? "" : String.format(" acceptance %.2f", speculation.acceptanceRate()),
                generationSeconds == null ? "n/a" : String.format("%.1f", generationSeconds), lossSeconds));
        return new Row(strategy, speedup, supported, shown, policy.details(), activated, activatedAll,
                bleu, chrf, loss, tokensPerS, meanOutput, generationSeconds, lossSeconds, samples, draftTokens,
                speculation);
    }

    private static List<Sample> samples(List<TranslationExample> data, EvalDecoding.Outcome out, Options options) {
        List<Sample> shown = new ArrayList<>();
        for (int i = 0; i < Math.min(options.examplesShown(), data.size()); i++) {
            TranslationExample e = data.get(i);
            shown.add(new Sample(e.id(), e.source(), e.reference(), out.texts().get(i)));
        }
        return shown;
    }

    private static void log(PrintStream progress, String line) {
        if (progress != null) {
            progress.println(line);
            progress.flush();
        }
    }
}
