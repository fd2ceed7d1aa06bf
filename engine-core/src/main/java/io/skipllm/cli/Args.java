package io.skipllm.cli;

import io.skipllm.BadInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of one command: {@code --name value} pairs and boolean {@code --flag}s. Each
 * command declares what it accepts, so a misspelt option is an error instead of being ignored, and
 * every typed getter names the option in its error message.
 */
final class Args {

    private final String command;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    private Args(String command) {
        this.command = command;
    }

    /**
     * Parses {@code argv} against the options the command accepts.
     *
     * @param valued options that take a value (without the leading dashes)
     * @param booleanFlags options that take none
     */
    static Args parse(String command, String[] argv, Set<String> valued, Set<String> booleanFlags) {
        Args args = new Args(command);
        for (int i = 0; i < argv.length; i++) {
            String token = argv[i];
            if (!token.startsWith("--") || token.length() == 2) {
                throw new BadInputException(command + ": unexpected argument '" + token + "'");
            }
            String name = token.substring(2);
            String inlineValue = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inlineValue = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (booleanFlags.contains(name)) {
                if (inlineValue != null) {
                    throw new BadInputException(command + ": --" + name + " takes no value");
                }
                args.flags.add(name);
            } else if (valued.contains(name)) {
                String value = inlineValue;
                if (value == null) {
                    if (i + 1 >= argv.length) {
                        throw new BadInputException(command + ": --" + name + " needs a value");
                    }
                    value = argv[++i];
                }
                if (args.values.put(name, value) != null) {
                    throw new BadInputException(command + ": --" + name + " is given more than once");
                }
            } else {
                List<String> known = new ArrayList<>(valued);
                known.addAll(booleanFlags);
                known.sort(null);
                throw new BadInputException(command + ": unknown option --" + name + " (known: --"
                        + String.join(", --", known) + ")");
            }
        }
        return args;
    }

    boolean has(String name) {
        return values.containsKey(name) || flags.contains(name);
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String string(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new BadInputException(command + ": --" + name + " is required");
        }
        return v;
    }

    int integer(String name, int defaultValue) {
        String v = values.get(name);
        return v == null ? defaultValue : parseInt(name, v);
    }

    int requiredInteger(String name) {
        return parseInt(name, required(name));
    }

    double requiredNumber(String name) {
        required(name);
        return number(name, Double.NaN);
    }

    double number(String name, double defaultValue) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new BadInputException("--" + name + ": expected a number, got '" + v + "'");
        }
    }

    /** A comma-separated list of integers, e.g. {@code --prompt-ids 1,5,9}. */
    int[] intList(String name) {
        String v = values.get(name);
        return v == null ? null : parseIntList("--" + name, v);
    }

    static int[] parseIntList(String what, String text) {
        String trimmed = text.trim();
        if (trimmed.isEmpty()) {
            throw new BadInputException(what + ": the list is empty");
        }
        return Arrays.stream(trimmed.split(",")).mapToInt(part -> {
            try {
                return Integer.parseInt(part.trim());
            } catch (NumberFormatException e) {
                throw new BadInputException(what + ": expected comma-separated integers, got '" + part.trim() + "'");
            }
        }).toArray();
    }

    private int parseInt(String name, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new BadInputException("--" + name + ": expected an integer, got '" + v + "'");
        }
    }
}
