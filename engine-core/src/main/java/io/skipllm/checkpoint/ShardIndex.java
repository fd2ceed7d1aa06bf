package io.skipllm.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code model.safetensors.index.json}: which shard file holds each tensor ({@code weight_map}).
 *
 * <p>Shard names come from the checkpoint, so they are treated as untrusted: only plain file names in
 * the index's own directory are accepted (no separators, no {@code ..}), which rules out an index that
 * points the loader at arbitrary files elsewhere on the machine.
 */
final class ShardIndex {

    /** Indexes of the largest public models are a few hundred KB. */
    static final long MAX_INDEX_BYTES = 64L << 20;

    private final Path file;
    private final Map<String, String> weightMap;

    private ShardIndex(Path file, Map<String, String> weightMap) {
        this.file = file;
        this.weightMap = Collections.unmodifiableMap(weightMap);
    }

    Path file() {
        return file;
    }

    /** Tensor name to shard file name, sorted by tensor name. */
    Map<String, String> weightMap() {
        return weightMap;
    }

    /** The shard's path, inside the index's directory. */
    Path shardPath(String shardName) {
        return file.resolveSibling(shardName);
    }

    static ShardIndex read(Path indexFile) {
        ObjectNode root = JsonDocuments.readObject(indexFile, MAX_INDEX_BYTES);
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(indexFile + ": 'weight_map' must be an object of tensor name to shard "
                    + "file, got " + (map == null ? "nothing" : JsonFields.kind(map)));
        }
        if (map.isEmpty()) {
            throw new CheckpointException(indexFile + ": 'weight_map' is empty");
        }
        Map<String, String> weightMap = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String tensor = entry.getKey();
            if (!entry.getValue().isTextual()) {
                throw new CheckpointException(indexFile + ": tensor '" + tensor + "': shard must be a file name, got "
                        + JsonFields.kind(entry.getValue()));
            }
            String shard = entry.getValue().textValue();
            checkShardName(indexFile, tensor, shard);
            weightMap.put(tensor, shard);
        }
        for (String shard : new TreeSet<>(weightMap.values())) {
            Path path = indexFile.resolveSibling(shard);
            if (!Files.isRegularFile(path)) {
                throw new CheckpointException(indexFile + ": shard '" + shard + "' does not exist in "
                        + indexFile.getParent());
            }
        }
        return new ShardIndex(indexFile, weightMap);
    }

    private static void checkShardName(Path indexFile, String tensor, String shard) {
        boolean plainName = !shard.isEmpty() && !shard.contains("/") && !shard.contains("\\")
                && !shard.contains("..") && !shard.contains("\0") && !shard.contains(":");
        if (!plainName) {
            throw new CheckpointException(indexFile + ": tensor '" + tensor + "': shard name '" + shard
                    + "' is not a plain file name in the checkpoint directory");
        }
    }
}
