package io.skipllm.checkpoint;

import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The error for a tensor that is not in the checkpoint, with the closest names that are. Most
 * "missing tensor" errors are naming mismatches (a prefix such as {@code transformer.} or
 * {@code model.}, a renamed module), which the nearest names make obvious at a glance.
 */
final class TensorNameHints {

    static final int MAX_HINTS = 5;

    private TensorNameHints() {
    }

    static CheckpointException missing(String name, String location, Collection<String> present) {
        List<String> similar = closest(name, present, MAX_HINTS);
        String hint = present.isEmpty() ? "; the checkpoint has no tensors at all"
                : "; similar names present: " + String.join(", ", similar);
        return new CheckpointException(location + ": tensor '" + name + "' not found (" + present.size()
                + " tensors)" + hint);
    }

    /** Up to {@code limit} names from {@code present}, nearest first by edit distance. */
    static List<String> closest(String name, Collection<String> present, int limit) {
        Map<String, Integer> distance = new HashMap<>();
        for (String candidate : present) {
            distance.put(candidate, editDistance(name, candidate));
        }
        return present.stream()
                .sorted(Comparator.comparingInt((String candidate) -> distance.get(candidate))
                        .thenComparing(Comparator.<String>naturalOrder()))
                .limit(limit)
                .collect(Collectors.toList());
    }

    /** Levenshtein distance, two rows of memory. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
