package io.skipllm.eval;

import io.skipllm.BadInputException;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.RetainedLayers;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * The paper's "greedy searched" layer skipping (section 3.3, Table 2), a strong but expensive
 * baseline: start from all N layers and, round after round, drop the layer whose removal raises the
 * dev-set {@link ResponseLoss response loss} least, until as few layers remain as the smallest
 * target asks for. The set reached at each target size is that size's greedy-searched set, so one
 * search serves every requested speedup.
 *
 * <p>Round k evaluates N - k + 1 candidate sets on the whole dev set: about N^2/2 loss passes down
 * to N/2 layers, which is why the dev split should be small. Ties go to the lower layer index, so
 * the search is deterministic. Any layer may be dropped, the first and last included.
 */
public final class GreedyLayerSearch {

    private GreedyLayerSearch() {
    }

    /**
     * One round.
     *
     * @param dropped the layer removed this round
     * @param retained the set after removing it
     * @param devLoss the dev-set response loss of {@code retained}
     * @param candidates every candidate layer of the round and the dev loss without it
     */
    public record Round(int dropped, RetainedLayers retained, double devLoss, SortedMap<Integer, Double> candidates) {
        public Round {
            candidates = Collections.unmodifiableSortedMap(new TreeMap<>(candidates));
        }
    }

    /**
     * @param fullDevLoss the dev loss with every layer (the starting point)
     * @param path the rounds in order
     * @param setsBySize the retained set reached at each requested size
     */
    public record Result(double fullDevLoss, List<Round> path, SortedMap<Integer, RetainedLayers> setsBySize) {
        public Result {
            path = List.copyOf(path);
            setsBySize = Collections.unmodifiableSortedMap(new TreeMap<>(setsBySize));
        }

        /** The set the search reached with {@code size} layers. */
        public RetainedLayers setOfSize(int size) {
            RetainedLayers set = setsBySize.get(size);
            if (set == null) {
                throw new IllegalArgumentException("the search did not target " + size + " layers; targets: "
                        + setsBySize.keySet());
            }
            return set;
        }
    }

    /**
     * @param targetSizes retained-set sizes to stop at (each 1..N)
     * @param progress one line per round, or null
     */
    public static Result search(SkipAwareDecoder decoder, List<EncodedExample> dev, Collection<Integer> targetSizes,
            int batchSize, PrintStream progress) {
        int numLayers = decoder.model().config().numLayers();
        if (targetSizes == null || targetSizes.isEmpty()) {
            throw new BadInputException("greedy layer search: no target sizes");
        }
        for (int size : targetSizes) {
            if (size < 1 || size > numLayers) {
                throw new BadInputException("greedy layer search: a target of " + size + " layers is outside 1.."
                        + numLayers);
            }
        }
        int smallest = Collections.min(targetSizes);
        List<Integer> current = new ArrayList<>(IntStream.range(0, numLayers).boxed().toList());
        double fullLoss = loss(decoder, dev, current, batchSize);
        SortedMap<Integer, RetainedLayers> sets = new TreeMap<>();
        if (targetSizes.contains(numLayers)) {
            sets.put(numLayers, RetainedLayers.all(numLayers));
        }
        log(progress, String.format("greedy search: %d layers, dev loss %.4f", numLayers, fullLoss));
        List<Round> path = new ArrayList<>();
        while (current.size() > smallest) {
            SortedMap<Integer, Double> candidates = new TreeMap<>();
            int best = -1;
            for (int layer : current) {
                List<Integer> without = new ArrayList<>(current);
                without.remove(Integer.valueOf(layer));
                double loss = loss(decoder, dev, without, batchSize);
                candidates.put(layer, loss);
                if (best < 0 || loss < candidates.get(best)) {  // strict: ties keep the lower layer
                    best = layer;
                }
            }
            current.remove(Integer.valueOf(best));
            RetainedLayers retained = toSet(current);
            path.add(new Round(best, retained, candidates.get(best), candidates));
            if (targetSizes.contains(current.size())) {
                sets.put(current.size(), retained);
            }
            log(progress, String.format("greedy search: drop layer %d -> %d layers %s, dev loss %.4f", best,
                    current.size(), retained, candidates.get(best)));
        }
        return new Result(fullLoss, path, sets);
    }

    private static double loss(SkipAwareDecoder decoder, List<EncodedExample> dev, List<Integer> layers, int batchSize) {
        return ResponseLoss.compute(decoder, dev, SkipPolicy.fixed(toSet(layers)), batchSize).meanNats();
    }

    private static RetainedLayers toSet(List<Integer> layers) {
        return RetainedLayers.of(layers.stream().mapToInt(Integer::intValue).toArray());
    }

    private static void log(PrintStream progress, String line) {
        if (progress != null) {
            progress.println(line);
            progress.flush();
        }
    }
}
