package io.skipllm.model.nd4j;

import io.skipllm.weights.Weight;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The nd4j forward pass's token embedding lookup: one row of the embedding matrix per token id. */
public final class Embeddings {

    private Embeddings() {
    }

    /** {@code [ids.length, hidden]} (a new array); ids were checked against the vocabulary by the caller. */
    public static INDArray lookup(Weight embeddings, int[] ids) {
        return Nd4j.pullRows(Linear.array(embeddings), 1, ids);
    }
}
