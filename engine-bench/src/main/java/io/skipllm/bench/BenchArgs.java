package io.skipllm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code --option value} arguments of the engine-bench mains ({@link ServingBenchmark},
 * {@link LosslessBenchmark}): typed values with defaults, the model {@code --model} names
 * ({@code shipped}, a {@code random:} spec or a checkpoint directory, with {@code --weights}), and
 * where the JSON goes ({@code --json FILE}, else standard output).
 */
final class BenchArgs {

    static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, String> values = new LinkedHashMap<>();

    private BenchArgs() {
    }

    static BenchArgs parse(String[] argv) {
        BenchArgs args = new BenchArgs();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value pairs, got " + argv[i]);
            }
            args.values.put(argv[i].substring(2), argv[i + 1]);
        }
        return args;
    }

    String string(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    int integer(String name, int defaultValue) {
        return values.containsKey(name) ? Integer.parseInt(values.get(name).trim()) : defaultValue;
    }

    double number(String name, double defaultValue) {
        return values.containsKey(name) ? Double.parseDouble(values.get(name).trim()) : defaultValue;
    }

    /** A comma-separated list of integers. */
    List<Integer> integers(String name, String defaultValue) {
        return Arrays.stream(string(name, defaultValue).split(",")).map(s -> Integer.parseInt(s.trim())).toList();
    }

    /** A comma-separated list of numbers. */
    List<Double> numbers(String name, String defaultValue) {
        return Arrays.stream(string(name, defaultValue).split(",")).map(s -> Double.parseDouble(s.trim())).toList();
    }

    /** {@code --model} (default {@code shipped}) with {@code --weights} (default {@code stored}) and {@code --backend}. */
    Model model() {
        String spec = string("model", "shipped");
        return Model.fromSpec(spec.equals("shipped") ? null : spec, LoadOptions.parse(string("weights", "stored"),
                string("backend", null)));
    }

    /** Writes {@code out} as pretty JSON to {@code --json FILE}, or to standard output without it. */
    void writeJson(Object out) throws IOException {
        String json = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out);
        if (values.containsKey("json")) {
            Files.writeString(Path.of(values.get("json")), json);
        } else {
            System.out.println(json);
        }
    }
}
