package io.skipllm.cli;

import io.skipllm.BadInputException;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.Set;

/** The options that choose a retained layer set: {@code --strategy S --speedup R} or {@code --retained LIST}. */
final class SkipOptions {

    static final Set<String> NAMES = Set.of("strategy", "speedup", "retained");

    private SkipOptions() {
    }

    /** The retained layers for a model of {@code numLayers} layers; default unified at 1.0 (full depth). */
    static RetainedLayers resolve(Args args, int numLayers) {
        int[] explicit = args.intList("retained");
        if (explicit != null) {
            if (args.has("speedup") || args.has("strategy")) {
                throw new BadInputException("--retained cannot be combined with --speedup or --strategy");
            }
            return LayerSkipPlanner.explicit(numLayers, explicit);
        }
        SkipStrategy strategy = SkipStrategy.fromName(args.string("strategy", "unified"));
        return LayerSkipPlanner.plan(strategy, numLayers, args.number("speedup", 1.0));
    }
}
