package io.skipllm.planner;

import io.skipllm.BadInputException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The static layer-skipping strategies of the planner (paper Table 2). */
public enum SkipStrategy {
    /** Keep every layer: the full-depth baseline. */
    FULL("full"),
    /** Keep the first and last layer and evenly spaced layers between them (paper Algorithm 1). */
    UNIFIED("unified"),
    /** Keep the first M layers, skip the top ones: the static form of early exit. */
    TOP("top"),
    /** Keep the last M layers, skip the bottom ones: the static form of SkipDecode's choice. */
    BOTTOM("bottom");

    private final String cliName;

    SkipStrategy(String cliName) {
        this.cliName = cliName;
    }

    /** The name used on the command line and in JSON output. */
    public String cliName() {
        return cliName;
    }

    /** Parses a strategy name as written in CONTRACTS.md ({@code full}, {@code unified}, ...). */
    public static SkipStrategy fromName(String name) {
        String wanted = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (SkipStrategy s : values()) {
            if (s.cliName.equals(wanted)) {
                return s;
            }
        }
        throw new BadInputException("unknown strategy '" + name + "'; expected one of "
                + Arrays.stream(values()).map(SkipStrategy::cliName).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
