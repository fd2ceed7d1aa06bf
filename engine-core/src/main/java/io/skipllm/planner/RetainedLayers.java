package io.skipllm.planner;

import io.skipllm.BadInputException;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The layers a response token runs through: sorted, distinct, non-negative layer indices. Immutable
 * and therefore safe to share across threads and requests. Layers not in the set are skipped during
 * decoding (the identity on the hidden state); the prompt always runs every layer.
 */
public final class RetainedLayers {

    private final int[] indices;

    private RetainedLayers(int[] sortedDistinct) {
        this.indices = sortedDistinct;
    }

    /**
     * A set from explicit layer indices, in any order. Rejects an empty set, negative indices and
     * duplicates (a duplicate usually means a typo in a hand-written list, so it is not silently merged).
     */
    public static RetainedLayers of(int... layers) {
        if (layers == null || layers.length == 0) {
            throw new BadInputException("retained layers: the list is empty; at least one layer must run");
        }
        int[] sorted = layers.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            if (sorted[i] < 0) {
                throw new BadInputException("retained layers: layer index " + sorted[i] + " is negative");
            }
            if (i > 0 && sorted[i] == sorted[i - 1]) {
                throw new BadInputException("retained layers: layer " + sorted[i] + " is listed twice");
            }
        }
        return new RetainedLayers(sorted);
    }

    /** Every layer of an {@code numLayers}-layer model. */
    public static RetainedLayers all(int numLayers) {
        if (numLayers < 1) {
            throw new BadInputException("number of layers must be >= 1, got " + numLayers);
        }
        return new RetainedLayers(IntStream.range(0, numLayers).toArray());
    }

    public boolean contains(int layer) {
        return Arrays.binarySearch(indices, layer) >= 0;
    }

    public int size() {
        return indices.length;
    }

    /** The layer indices in ascending order (a copy). */
    public int[] indices() {
        return indices.clone();
    }

    /** The i-th retained layer in ascending order. */
    public int get(int i) {
        return indices[i];
    }

    /** The highest retained layer index. */
    public int last() {
        return indices[indices.length - 1];
    }

    /**
     * Checks that every index names a layer of an {@code numLayers}-layer model.
     *
     * @throws BadInputException naming the first layer the model does not have
     */
    public RetainedLayers requireWithin(int numLayers) {
        if (last() >= numLayers) {
            throw new BadInputException("retained layers: layer " + last() + " does not exist; the model has "
                    + numLayers + " layers (0.." + (numLayers - 1) + ")");
        }
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RetainedLayers other && Arrays.equals(indices, other.indices);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(indices);
    }

    /** The indices as {@code [0, 6, 12]}, the same form the CLI prints. */
    @Override
    public String toString() {
        return Arrays.stream(indices).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]"));
    }
}
