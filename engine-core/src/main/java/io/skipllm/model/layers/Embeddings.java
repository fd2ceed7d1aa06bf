package io.skipllm.model.layers;

import io.skipllm.weights.Weight;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Token embedding lookup: one row of the embedding matrix per token id, as float32. */
public final class Embeddings {

    private Embeddings() {
    }

    /** {@code [ids.length, hidden]} (a new array); ids were checked against the vocabulary by the caller. */
    public static INDArray lookup(Weight embeddings, int[] ids) {
        if (!embeddings.onHost()) {
            return Nd4j.pullRows(embeddings.array(), 1, ids);
        }
        int hidden = embeddings.cols();
        float[] rows = new float[ids.length * hidden];
        for (int i = 0; i < ids.length; i++) {
            embeddings.row(ids[i], rows, i * hidden);
        }
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, ids.length, hidden);
        HostArrays.view(out).put(0, rows, 0, rows.length);
        return out;
    }
}
