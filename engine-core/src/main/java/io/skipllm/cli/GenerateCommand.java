package io.skipllm.cli;

import io.skipllm.BadInputException;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.Generator;
import io.skipllm.generation.Hypothesis;
import io.skipllm.generation.TokenStreamListener;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.Model;
import io.skipllm.model.RandomModels;
import io.skipllm.model.ShippedModel;
import io.skipllm.planner.RetainedLayers;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code generate [--model DIR] (--prompt TEXT | --prompt-ids I,J;K,L | --batch-file FILE) [options]}:
 * greedy search, sampling or beam search with layer skipping (CONTRACTS.md). All prompts of one call
 * are decoded together as one batch.
 *
 * <p>Sampling is switched on by {@code --do-sample} or by any sampling option ({@code --temperature},
 * {@code --top-k}, {@code --top-p}, {@code --seed}): giving one of them means the user wants samples.
 * When sampling, top-k defaults to 50 as in Hugging Face; {@code --top-k 0} turns it off. Sampling
 * cannot be combined with {@code --beams > 1}.
 */
final class GenerateCommand implements Command {

    private static final Set<String> SAMPLING_OPTIONS = Set.of("temperature", "top-k", "top-p", "seed");

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String usage() {
        return "generate [--model DIR|random:SPEC] (--prompt TEXT | --prompt-ids I,J,K[;I,J] | --batch-file FILE)"
                + " [--strategy S] [--speedup R | --retained LIST] [--max-new-tokens N] [--beams K] [--length-penalty X]"
                + " [--early-stopping] [--no-repeat-ngram N] [--num-return K] [--repetition-penalty X]"
                + " [--do-sample] [--temperature T] [--top-k K (50 when sampling)] [--top-p P] [--seed S]"
                + " [--stop TEXT] [--stop-ids I,J] [--lossless [--draft-tokens K]] [--weights stored|f32|bf16|f16|q8_0|q4_0]"
                + " [--json]   (--lossless: the plan drafts, the full network verifies; any of --temperature/--top-k/--top-p/--seed samples)";
    }

    @Override
    public void run(String[] argv, PrintStream out, PrintStream err) {
        Set<String> valued = new HashSet<>(SkipOptions.NAMES);
        valued.addAll(Set.of("model", ModelLoading.WEIGHTS, ModelLoading.BACKEND, "prompt", "prompt-ids", "batch-file", "max-new-tokens", "beams",
                "length-penalty", "no-repeat-ngram", "num-return", "repetition-penalty", "temperature", "top-k",
                "top-p", "seed", "stop", "stop-ids", "draft-tokens"));
        Args args = Args.parse(name(), argv, valued, Set.of("json", "debug", "do-sample", "early-stopping",
                "lossless"));

        Prompts prompts = Prompts.from(args);
        GenerationConfig.Builder builder = configBuilder(args); // every option checked before the model is loaded
        LoadOptions loadOptions = ModelLoading.options(args);

        try (Model model = Model.fromSpec(args.string("model", null), loadOptions)) {
            RetainedLayers retained = SkipOptions.resolve(args, model.config().numLayers());
            GenerationConfig config = builder.retainedLayers(retained).build();
            Generator generator = new Generator(model.decoder(), model.tokenizer().orElse(null));
            if (prompts.texts() != null && !generator.hasTokenizer()) {
                throw new BadInputException("text prompts need a tokenizer and the model has no tokenizer.json;"
                        + " give token ids with --prompt-ids");
            }
            boolean stream = !args.flag("json") && prompts.size() == 1 && !config.isBeamSearch()
                    && config.numReturnSequences() == 1;
            TokenStreamListener listener = stream ? streamingPrinter(out, generator.hasTokenizer()) : null;
            List<GenerationResult> results = prompts.texts() != null
                    ? generator.generateText(prompts.texts(), config, listener)
                    : generator.generate(prompts.ids(), config, listener);
            if (args.flag("json")) {
                for (int i = 0; i < results.size(); i++) {
                    out.println(Json.line(json(prompts.display(i), results.get(i), generator.hasTokenizer())));
                }
            } else if (stream) {
                out.println();
            } else {
                printText(results, generator.hasTokenizer(), out);
            }
            out.flush();
            summary(results, model.config().numLayers(), err);
        }
    }

    /** The prompts of the request: token ids, or texts for the tokenizer. */
    private record Prompts(List<int[]> ids, List<String> texts) {

        static Prompts from(Args args) {
            int given = (args.has("prompt") ? 1 : 0) + (args.has("prompt-ids") ? 1 : 0) + (args.has("batch-file") ? 1 : 0);
            if (given != 1) {
                throw new BadInputException("generate: give exactly one of --prompt, --prompt-ids or --batch-file");
            }
            if (args.has("prompt")) {
                return new Prompts(null, List.of(args.required("prompt")));
            }
            if (args.has("prompt-ids")) {
                List<int[]> ids = new ArrayList<>();
                String[] parts = args.required("prompt-ids").split(";", -1);
                for (int i = 0; i < parts.length; i++) {
                    ids.add(Args.parseIntList(parts.length == 1 ? "--prompt-ids" : "--prompt-ids (prompt " + i + ")",
                            parts[i]));
                }
                return new Prompts(ids, null);
            }
            Path file = Path.of(args.required("batch-file"));
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new BadInputException("--batch-file: cannot read " + file + ": " + e.getMessage(), e);
            }
            List<String> texts = lines.stream().filter(line -> !line.isBlank()).toList();
            if (texts.isEmpty()) {
                throw new BadInputException("--batch-file: " + file + " holds no prompts (one prompt per line)");
            }
            return new Prompts(null, texts);
        }

        int size() {
            return texts != null ? texts.size() : ids.size();
        }

        /** The "prompt" value of the JSON output: the text, or the id list. */
        Object display(int i) {
            return texts != null ? texts.get(i) : ids.get(i);
        }
    }

    private static GenerationConfig.Builder configBuilder(Args args) {
        boolean sampling = args.flag("do-sample") || SAMPLING_OPTIONS.stream().anyMatch(args::has);
        int beams = args.integer("beams", 1);
        if (sampling && beams > 1) {
            throw new BadInputException("--do-sample, --temperature, --top-k, --top-p and --seed choose sampling,"
                    + " which cannot be combined with --beams > 1");
        }
        GenerationConfig.Builder b = GenerationConfig.builder()
                .maxNewTokens(args.integer("max-new-tokens", 64))
                .numBeams(beams)
                .lengthPenalty(args.number("length-penalty", 1.0))
                .earlyStopping(args.flag("early-stopping"))
                .noRepeatNgramSize(args.integer("no-repeat-ngram", 0))
                .numReturnSequences(args.integer("num-return", 1))
                .repetitionPenalty(args.number("repetition-penalty", 1.0))
                .doSample(sampling)
                .temperature(args.number("temperature", 1.0))
                .topK(args.integer("top-k", 50))
                .topP(args.number("top-p", 1.0));
        if (args.has("seed")) {
            String seed = args.required("seed");
            try {
                b.seed(Long.parseLong(seed.trim()));
            } catch (NumberFormatException e) {
                throw new BadInputException("--seed: expected an integer, got '" + seed + "'");
            }
        }
        if (args.has("stop")) {
            b.stopStrings(List.of(args.required("stop")));
        }
        if (args.has("draft-tokens") && !args.flag("lossless")) {
            throw new BadInputException("--draft-tokens needs --lossless");
        }
        b.lossless(args.flag("lossless")).draftTokens(args.integer("draft-tokens", GenerationConfig.DEFAULT_DRAFT_TOKENS));
        if (args.has("stop-ids")) {
            b.stopTokenIds(args.intList("stop-ids"));
        }
        try {
            b.build();
        } catch (BadInputException e) {
            throw new BadInputException(e.getMessage().replace("generation config: ", "") + optionHint(e.getMessage()), e);
        }
        return b;
    }

    /** The CLI option behind a config field named in a validation message. */
    private static String optionHint(String message) {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("maxNewTokens", "--max-new-tokens");
        options.put("numBeams", "--beams");
        options.put("numReturnSequences", "--num-return");
        options.put("lengthPenalty", "--length-penalty");
        options.put("noRepeatNgramSize", "--no-repeat-ngram");
        options.put("repetitionPenalty", "--repetition-penalty");
        options.put("temperature", "--temperature");
        options.put("topK", "--top-k");
        options.put("topP", "--top-p");
        options.put("stopTokenIds", "--stop-ids");
        options.put("stopStrings", "--stop");
        options.put("draftTokens", "--draft-tokens");
        options.put("lossless", "--lossless");
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (message.startsWith("generation config: " + e.getKey() + " ")) {
                return " (" + e.getValue() + ")";
            }
        }
        return "";
    }


    /** Prints each token as it is generated: its text, or its id (comma-separated) without a tokenizer. */
    private static TokenStreamListener streamingPrinter(PrintStream out, boolean text) {
        int[] count = {0};
        return (prompt, sequence, tokenId, fragment) -> {
            if (text) {
                out.print(fragment);
            } else {
                out.print((count[0]++ == 0 ? "" : ",") + tokenId);
            }
            out.flush();
        };
    }

    private static void printText(List<GenerationResult> results, boolean text, PrintStream out) {
        boolean several = results.size() > 1 || results.get(0).hypotheses().size() > 1;
        for (int i = 0; i < results.size(); i++) {
            List<Hypothesis> hypotheses = results.get(i).hypotheses();
            for (int j = 0; j < hypotheses.size(); j++) {
                Hypothesis h = hypotheses.get(j);
                if (several) {
                    out.printf("--- prompt %d, hypothesis %d (score %.4f)%n", i, j, h.score());
                }
                out.println(text ? h.text() : ids(h.tokens()));
            }
        }
    }

    private static String ids(int[] tokens) {
        return Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private static Map<String, Object> json(Object prompt, GenerationResult result, boolean text) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("prompt", prompt);
        json.put("tokens", result.tokens());
        if (text) {
            json.put("text", result.text());
        }
        json.put("retained", result.retained().indices());
        List<Map<String, Object>> hypotheses = new ArrayList<>();
        for (Hypothesis h : result.hypotheses()) {
            Map<String, Object> hj = new LinkedHashMap<>();
            hj.put("tokens", h.tokens());
            if (text) {
                hj.put("text", h.text());
            }
            hj.put("logprob", h.logprob());
            hj.put("score", h.score());
            hypotheses.add(hj);
        }
        json.put("hypotheses", hypotheses);
        json.put("tokens_per_s", result.timing().decodeTokensPerSecond());
        json.put("prompt_tokens", result.promptTokens());
        json.put("prefill_ms", result.timing().prefillMillis());
        if (result.speculation() != null) {
            json.put("acceptance_rate", result.speculation().acceptanceRate());
        }
        return json;
    }

    private static void summary(List<GenerationResult> results, int numLayers, PrintStream err) {
        GenerationResult first = results.get(0);
        GenerationResult.Speculation s = first.speculation();
        // lossless mode adds its acceptance rate to the same line, after the decode rate
        String lossless = s == null ? "" : String.format(Locale.ROOT,
                "; lossless: acceptance rate %.3f, %.2f tokens per full-depth verification (%d drafted)",
                s.acceptanceRate(), s.tokensPerRound(), s.draftTokens());
        err.printf("generate: %d prompt(s); prompt tokens %s; generated tokens %s; retained %d of %d layers %s;"
                        + " prefill %.1f ms; decode %.1f tokens/s%s%n",
                results.size(),
                results.stream().map(r -> Integer.toString(r.promptTokens())).collect(Collectors.joining(",", "[", "]")),
                results.stream().map(r -> Integer.toString(r.tokens().length)).collect(Collectors.joining(",", "[", "]")),
                first.retained().size(), numLayers, first.retained(), first.timing().prefillMillis(),
                first.timing().decodeTokensPerSecond(), lossless);
        err.flush();
    }
}
