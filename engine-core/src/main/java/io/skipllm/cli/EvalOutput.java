package io.skipllm.cli;

import io.skipllm.eval.EncodedExample;
import io.skipllm.eval.Evaluation;
import io.skipllm.eval.GreedyLayerSearch;
import io.skipllm.generation.GenerationResult;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code eval} report as one JSON document (docs/cli.md) or as a table with example translations. */
final class EvalOutput {

    private EvalOutput() {
    }

    static Map<String, Object> json(String model, Path data, Path dev, List<EncodedExample> devExamples, String template,
            Evaluation.Options options, Evaluation.Report report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model);
        json.put("data", data.toString());
        json.put("dev", dev == null ? null : dev.toString());
        json.put("examples_count", report.examplesCount());
        json.put("template", template);
        json.put("beams", options.beams());
        json.put("max_new_tokens", options.maxNewTokens());
        if (options.strategies().contains("self-speculative")) {
            json.put("draft_tokens", options.draftTokens());
        }
        json.put("rows", report.rows().stream().map(EvalOutput::row).toList());
        json.put("greedy_search", report.greedySearch() == null ? null
                : greedy(report.greedySearch(), devExamples.size(), options));
        return json;
    }

    private static Map<String, Object> row(Evaluation.Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("strategy", r.strategy());
        m.put("speedup", r.speedup());
        m.put("supported", r.supported());
        m.put("retained", r.retained() == null ? null : r.retained().indices());
        if (!r.details().isEmpty()) {
            m.put("details", r.details());
        }
        m.put("activated_layers", r.activatedLayers());
        m.put("activated_layers_all_tokens", r.activatedLayersAllTokens());
        m.put("bleu", r.bleu() == null ? null : r.bleu().score());
        m.put("chrf", r.chrf() == null ? null : r.chrf().score());
        m.put("loss", r.loss().meanNats());
        m.put("loss_tokens", r.loss().tokens());
        m.put("tokens_per_s", r.tokensPerS());
        m.put("mean_output_tokens", r.meanOutputTokens());
        if (r.draftTokens() != null) {
            GenerationResult.Speculation s = r.speculation();
            m.put("draft_tokens", r.draftTokens());
            m.put("acceptance_rate", s == null ? null : s.acceptanceRate());
            m.put("acceptance_by_position", s == null ? null : Arrays.stream(s.acceptanceByPosition())
                    .mapToObj(v -> Double.isNaN(v) ? null : (Object) v).toList());
            m.put("tokens_per_round", s == null ? null : s.tokensPerRound());
        }
        if (r.bleu() != null) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("precisions", r.bleu().precisions());
            b.put("brevity_penalty", r.bleu().brevityPenalty());
            b.put("hyp_len", r.bleu().hypothesisLength());
            b.put("ref_len", r.bleu().referenceLength());
            m.put("bleu_details", b);
        }
        m.put("generation_s", r.generationSeconds());
        m.put("loss_s", r.lossSeconds());
        List<Map<String, Object>> examples = new ArrayList<>();
        for (Evaluation.Sample s : r.samples()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", s.id());
            e.put("source", s.source());
            e.put("reference", s.reference());
            e.put("hypothesis", s.hypothesis());
            examples.add(e);
        }
        m.put("examples", examples);
        return m;
    }

    private static Map<String, Object> greedy(GreedyLayerSearch.Result g, int devExamples, Evaluation.Options options) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dev_examples", devExamples);
        m.put("full_dev_loss", g.fullDevLoss());
        List<Map<String, Object>> path = new ArrayList<>();
        for (GreedyLayerSearch.Round round : g.path()) {
            Map<String, Object> step = new LinkedHashMap<>();
            step.put("dropped", round.dropped());
            step.put("retained", round.retained().indices());
            step.put("dev_loss", round.devLoss());
            List<Map<String, Object>> candidates = new ArrayList<>();
            round.candidates().forEach((layer, loss) -> {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("layer", layer);
                c.put("dev_loss", loss);
                candidates.add(c);
            });
            step.put("candidates", candidates);
            path.add(step);
        }
        m.put("path", path);
        List<Map<String, Object>> sets = new ArrayList<>();
        g.setsBySize().forEach((size, set) -> {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("layers", size);
            s.put("retained", set.indices());
            sets.add(s);
        });
        m.put("sets", sets);
        return m;
    }

    static void table(Evaluation.Report report, PrintStream out) {
        out.printf("%-16s %7s %7s %7s %7s %7s %8s %9s  %s%n", "strategy", "speedup", "layers", "all-tok", "BLEU", "chrF",
                "loss", "tokens/s", "retained");
        for (Evaluation.Row r : report.rows()) {
            String draft = r.draftTokens() == null ? "" : " (draft) k=" + r.draftTokens() + (r.speculation() == null
                    ? "" : String.format(" acceptance %.2f", r.speculation().acceptanceRate()));
            out.printf("%-16s %7.1f %7s %7s %7s %7s %8.4f %9s  %s%s%n", r.strategy(), r.speedup(),
                    format(r.activatedLayers(), "%.2f"), format(r.activatedLayersAllTokens(), "%.2f"),
                    r.bleu() == null ? "n/a" : String.format("%.2f", r.bleu().score()),
                    r.chrf() == null ? "n/a" : String.format("%.2f", r.chrf().score()), r.loss().meanNats(),
                    format(r.tokensPerS(), "%.1f"), r.retained() != null ? r.retained() : r.details(), draft);
        }
        GreedyLayerSearch.Result g = report.greedySearch();
        if (g != null) {
            out.printf("%ngreedy search: all layers dev loss %.4f%n", g.fullDevLoss());
            for (GreedyLayerSearch.Round round : g.path()) {
                out.printf("  drop %2d -> %2d layers, dev loss %.4f  %s%n", round.dropped(), round.retained().size(),
                        round.devLoss(), round.retained());
            }
        }
        List<Evaluation.Row> withSamples = report.rows().stream().filter(r -> !r.samples().isEmpty()).toList();
        if (!withSamples.isEmpty()) {
            out.println();
            for (int i = 0; i < withSamples.get(0).samples().size(); i++) {
                Evaluation.Sample s = withSamples.get(0).samples().get(i);
                out.println(s.id());
                out.println("  source:    " + s.source());
                out.println("  reference: " + s.reference());
                for (Evaluation.Row r : withSamples) {
                    out.printf("  %-10s %s%n", r.label() + ":", r.samples().get(i).hypothesis());
                }
            }
        }
    }

    private static String format(Double value, String pattern) {
        return value == null ? "n/a" : String.format(pattern, value);
    }
}
