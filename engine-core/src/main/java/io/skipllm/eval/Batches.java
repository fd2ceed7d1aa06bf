package io.skipllm.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntUnaryOperator;
import java.util.stream.IntStream;

/**
 * Groups examples into decode batches. Examples are ordered by prompt length first: rows are
 * left-padded to the longest prompt of their batch, and similar lengths waste less work (a batch
 * also decodes until its longest response is done, and long prompts tend to have long responses).
 * Results do not depend on the grouping beyond float rounding: the decoder gives a prompt the same
 * logits alone or in a batch.
 */
final class Batches {

    private Batches() {
    }

    /**
     * Example indices per batch: at most {@code batchSize} each, and the longest prompt of a batch
     * plus its largest number of new positions never above {@code maxPositions} (the decode
     * session's cache spans both). Each example alone must fit; the caller checks that first.
     */
    static List<int[]> plan(int count, IntUnaryOperator promptLength, IntUnaryOperator newPositions, int batchSize,
            int maxPositions) {
        int[] order = IntStream.range(0, count).boxed()
                .sorted(Comparator.comparingInt(promptLength::applyAsInt).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
        List<int[]> batches = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        int longestPrompt = 0;
        int mostNew = 0;
        for (int i : order) {
            int prompt = Math.max(longestPrompt, promptLength.applyAsInt(i));
            int fresh = Math.max(mostNew, newPositions.applyAsInt(i));
            if (!current.isEmpty() && (current.size() == batchSize || prompt + fresh > maxPositions)) {
                batches.add(current.stream().mapToInt(Integer::intValue).toArray());
                current.clear();
                prompt = promptLength.applyAsInt(i);
                fresh = newPositions.applyAsInt(i);
            }
            current.add(i);
            longestPrompt = prompt;
            mostNew = fresh;
        }
        if (!current.isEmpty()) {
            batches.add(current.stream().mapToInt(Integer::intValue).toArray());
        }
        return batches;
    }
}
