package io.skipllm.checkpoint;

import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A checkpoint split over several safetensors files by {@code model.safetensors.index.json}. Every
 * shard the index names is opened and validated up front, and every tensor the index lists must be in
 * the shard it is listed under: a stale or hand-edited index fails at open, not halfway through a load.
 * The store exposes exactly the index's tensors.
 */
final class ShardedTensorStore implements TensorStore {

    private final ShardIndex index;
    private final Map<String, SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> byTensor;

    private ShardedTensorStore(ShardIndex index, Map<String, SafetensorsFile> shards,
            Map<String, SafetensorsFile> byTensor) {
        this.index = index;
        this.shards = shards;
        this.byTensor = byTensor;
    }

    static ShardedTensorStore open(Path indexFile) {
        ShardIndex index = ShardIndex.read(indexFile);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            for (String shard : new TreeSet<>(index.weightMap().values())) {
                shards.put(shard, SafetensorsFile.open(index.shardPath(shard)));
            }
            Map<String, SafetensorsFile> byTensor = new TreeMap<>();
            for (Map.Entry<String, String> entry : index.weightMap().entrySet()) {
                SafetensorsFile shard = shards.get(entry.getValue());
                if (!shard.contains(entry.getKey())) {
                    throw new CheckpointException(indexFile + ": tensor '" + entry.getKey() + "' is listed in shard '"
                            + entry.getValue() + "', but " + shard.path() + " does not contain it");
                }
                byTensor.put(entry.getKey(), shard);
            }
            return new ShardedTensorStore(index, shards, Collections.unmodifiableMap(byTensor));
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    @Override
    public String location() {
        return index.file().toString();
    }

    @Override
    public Set<String> names() {
        return byTensor.keySet();
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    @Override
    public INDArray loadFloat(String name, long... expectedShape) {
        return shard(name).loadFloat(name, expectedShape);
    }

    @Override
    public Weight loadWeight(String name, WeightFormat format, long rows, long cols) {
        return shard(name).loadWeight(name, format, rows, cols);
    }

    @Override
    public WeightFormat storedFormat(String name) {
        return shard(name).storedFormat(name);
    }

    @Override
    public void close() {
        shards.values().forEach(SafetensorsFile::close);
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile shard = byTensor.get(name);
        if (shard == null) {
            throw TensorNameHints.missing(name, location(), names());
        }
        return shard;
    }
}
