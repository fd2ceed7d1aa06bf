package io.skipllm.cli;

import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code plan --layers N --speedup R [--strategy S]}: prints the retained layer set as JSON. */
final class PlanCommand implements Command {

    @Override
    public String name() {
        return "plan";
    }

    @Override
    public String usage() {
        return "plan --layers N --speedup R [--strategy unified|top|bottom|full]";
    }

    /** Planning is arithmetic on layer indices: it works even where no ND4J backend can start. */
    @Override
    public boolean needsBackend() {
        return false;
    }

    @Override
    public void run(String[] argv, PrintStream out, PrintStream err) {
        Args args = Args.parse(name(), argv, Set.of("layers", "speedup", "strategy"), Set.of("debug"));
        int layers = args.requiredInteger("layers");
        double speedup = args.requiredNumber("speedup");
        SkipStrategy strategy = SkipStrategy.fromName(args.string("strategy", "unified"));
        RetainedLayers retained = LayerSkipPlanner.plan(strategy, layers, speedup);

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("strategy", strategy.cliName());
        json.put("layers", layers);
        json.put("speedup", speedup);
        json.put("retained", retained.indices());
        out.println(Json.line(json));
    }
}
