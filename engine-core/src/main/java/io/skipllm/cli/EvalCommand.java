package io.skipllm.cli;

import io.skipllm.BadInputException;
import io.skipllm.eval.EncodedExample;
import io.skipllm.eval.Evaluation;
import io.skipllm.eval.TranslationData;
import io.skipllm.eval.TranslationExample;
import io.skipllm.eval.TranslationPrompts;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.TextCodec;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.Model;
import io.skipllm.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code eval [--model DIR] --data FILE [--dev FILE] [--strategies LIST] [--speedups LIST] [--beams K]
 * [--batch-size B] [--limit N] [--dev-limit N] [--max-new-tokens N] [--template T] [--examples N]
 * [--draft-tokens LIST] [--json]}:
 * BLEU, chrF, response loss and activated layers per strategy and speedup on a translation set (see
 * {@link Evaluation}). Every option and the data files are checked before the model is loaded.
 */
final class EvalCommand implements Command {

    static final String DEFAULT_STRATEGIES = "full,unified,top,bottom,greedy";

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String usage() {
        return "eval [--model DIR] --data FILE [--dev FILE] [--strategies " + DEFAULT_STRATEGIES
                + "(,skipdecode,early-exit,self-speculative)] [--speedups 2,3] [--beams K] [--batch-size 16] [--limit N]"
                + " [--dev-limit N] [--max-new-tokens 160] [--template T] [--examples 3] [--draft-tokens 4] [--weights W]"
                + " [--json]";
    }

    @Override
    public void run(String[] argv, PrintStream out, PrintStream err) {
        Args args = Args.parse(name(), argv, Set.of("model", ModelLoading.WEIGHTS, ModelLoading.BACKEND, "data", "dev", "strategies", "speedups", "beams",
                "batch-size", "limit", "dev-limit", "max-new-tokens", "template", "examples", "draft-tokens"),
                Set.of("json", "debug"));
        Evaluation.Options options = new Evaluation.Options(
                Arrays.stream(args.string("strategies", DEFAULT_STRATEGIES).split(",", -1)).map(String::trim).toList(),
                Arrays.stream(args.string("speedups", "2,3").split(",", -1)).map(v -> number("speedups", v)).toList(),
                args.integer("beams", 1), args.integer("batch-size", 16), args.integer("max-new-tokens", 160),
                args.integer("examples", 3),
                Arrays.stream(Args.parseIntList("--draft-tokens", args.string("draft-tokens",
                        String.valueOf(GenerationConfig.DEFAULT_DRAFT_TOKENS)))).boxed().toList());
        String template = TranslationPrompts.requireTemplate(args.string("template", TranslationPrompts.DEFAULT_TEMPLATE));
        Path dataFile = Path.of(args.required("data"));
        List<TranslationExample> data = TranslationData.read(dataFile, positive(args, "limit"));
        Path devFile = devFile(args, dataFile, options);
        List<TranslationExample> dev = devFile == null ? null : TranslationData.read(devFile, positive(args, "dev-limit"));
        String modelSpec = args.string("model", null);
        LoadOptions loadOptions = ModelLoading.options(args);
        // Without --model: the shipped translation model, as for generate (it was trained on this template).
        String modelDir = modelSpec == null ? "shipped:translation-base" : modelSpec;

        try (Model model = Model.fromSpec(modelSpec, loadOptions)) {
            Tokenizer tokenizer = model.tokenizer().orElseThrow(() -> new BadInputException("model " + modelDir
                    + " has no tokenizer.json; eval needs it to encode the data and decode the output"));
            List<Integer> eos = model.config().eosTokenIds();
            if (eos.isEmpty()) {
                throw new BadInputException("model " + modelDir + " has no eos_token_id (config.json or"
                        + " generation_config.json); the response ends with it");
            }
            TranslationPrompts prompts = new TranslationPrompts(template, tokenizer, eos.get(0));
            List<EncodedExample> encoded = data.stream().map(prompts::encode).toList();
            List<EncodedExample> devEncoded = dev == null ? null : dev.stream().map(prompts::encode).toList();
            err.printf("eval: %s, %d layers; %d examples from %s%s%n", modelDir, model.config().numLayers(), data.size(),
                    dataFile, dev == null ? "" : "; dev " + dev.size() + " examples from " + devFile);
            Evaluation.Report report = new Evaluation(model.decoder(), TextCodec.of(tokenizer))
                    .run(data, encoded, devEncoded, options, err);
            if (args.flag("json")) {
                out.println(Json.line(EvalOutput.json(modelDir, dataFile, devFile, devEncoded, template, options,
                        report)));
            } else {
                EvalOutput.table(report, out);
            }
            out.flush();
        }
    }

    /**
     * The dev split: {@code --dev}, else {@code dev.jsonl} beside the data file when greedy search or
     * early-exit calibration can use it. Without one, greedy search is a usage error.
     */
    private static Path devFile(Args args, Path dataFile, Evaluation.Options options) {
        if (args.has("dev")) {
            return Path.of(args.required("dev"));
        }
        boolean wanted = options.needsDevSet() || options.strategies().contains("early-exit");
        Path sibling = dataFile.toAbsolutePath().resolveSibling("dev.jsonl");
        if (wanted && Files.isRegularFile(sibling)) {
            return sibling;
        }
        if (options.needsDevSet()) {
            throw new BadInputException("the greedy strategy searches on a dev set: give --dev FILE (no dev.jsonl next to "
                    + dataFile + ")");
        }
        return null;
    }

    private static int positive(Args args, String option) {
        int value = args.integer(option, 0);
        if (args.has(option) && value < 1) {
            throw new BadInputException("--" + option + " must be >= 1, got " + value);
        }
        return value;
    }

    private static double number(String option, String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new BadInputException("--" + option + ": expected comma-separated numbers, got '" + text.trim() + "'");
        }
    }
}
