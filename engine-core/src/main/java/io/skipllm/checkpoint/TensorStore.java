package io.skipllm.checkpoint;

import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tensors of a checkpoint, whether in one safetensors file or sharded over several, by name.
 * Headers are validated when the store opens; data is read only by {@link #loadFloat}, one tensor at a
 * time, so a loader can check every name and shape it needs ({@link #require}) before reading any.
 */
public interface TensorStore extends AutoCloseable {

    /** {@code model.safetensors}: the whole checkpoint in one file. */
    String SINGLE_FILE = "model.safetensors";

    /** {@code model.safetensors.index.json}: a {@code weight_map} from tensor name to shard file. */
    String SHARD_INDEX = "model.safetensors.index.json";

    /**
     * The tensors of a checkpoint directory: {@code model.safetensors} if present, else the shards listed
     * by {@code model.safetensors.index.json}.
     */
    static TensorStore open(Path directory) {
        Path single = directory.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return SafetensorsFile.open(single);
        }
        Path index = directory.resolve(SHARD_INDEX);
        if (Files.isRegularFile(index)) {
            return ShardedTensorStore.open(index);
        }
        String hint = Files.exists(directory.resolve("pytorch_model.bin"))
                || Files.exists(directory.resolve("pytorch_model.bin.index.json"))
                ? " (only PyTorch .bin weights are there: convert them to safetensors)" : "";
        throw new CheckpointException(directory + ": no " + SINGLE_FILE + " or " + SHARD_INDEX + hint);
    }

    /** Where the tensors come from (a file, or an index and its directory), for messages. */
    String location();

    /** Every tensor name, sorted. */
    Set<String> names();

    boolean contains(String name);

    /** The header entry of {@code name}; a missing name is an error listing similar names present. */
    TensorInfo info(String name);

    /**
     * Checks, without reading data, that {@code name} exists, has exactly {@code expectedShape} and a
     * dtype that {@link #loadFloat} can widen (F32, F16, BF16).
     */
    default TensorInfo require(String name, long... expectedShape) {
        TensorInfo info = info(name);
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new CheckpointException(info.file() + ": tensor '" + name + "' has shape "
                    + Arrays.toString(info.shape()) + ", expected " + Arrays.toString(expectedShape));
        }
        if (SafetensorsDtype.byName(info.dtype()).filter(d -> d.loadable).isEmpty()) {
            throw new CheckpointException(info.file() + ": tensor '" + name + "' has dtype " + info.dtype()
                    + ", which cannot be loaded as weights; supported: F32, F16, BF16");
        }
        return info;
    }

    /**
     * Reads {@code name} into a new c-order FLOAT array, widening F16/BF16 exactly, after the checks of
     * {@link #require}. The array is detached from any ND4J workspace; the caller owns it.
     */
    INDArray loadFloat(String name, long... expectedShape);

    /**
     * Reads the matrix {@code name [rows, cols]} as a {@link Weight} in {@code format}, or in the format
     * it is stored in when {@code format} is null (then memory-mapped, not copied), after the checks
     * of {@link #require}. Non-finite values are refused. The caller owns the weight; it stays valid
     * after the store is closed.
     */
    Weight loadWeight(String name, WeightFormat format, long rows, long cols);

    /** The in-memory format {@code name} keeps when loaded as stored (F32, BF16 or F16). */
    WeightFormat storedFormat(String name);

    /** Releases the files; arrays already loaded stay valid. */
    @Override
    void close();
}
