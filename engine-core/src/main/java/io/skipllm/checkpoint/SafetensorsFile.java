package io.skipllm.checkpoint;

import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One safetensors file, opened and validated (see {@link SafetensorsHeader}); tensor data is mapped and
 * widened to float32 on request. Holds an open file channel until {@link #close()}.
 *
 * <p>Loading may run on several threads at once; {@code close()} must not race with loading.
 */
public final class SafetensorsFile implements TensorStore {

    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsFile.class);

    private final Path path;
    private final FileChannel channel;
    private final SafetensorsHeader header;
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, SafetensorsHeader header) {
        this.path = path;
        this.channel = channel;
        this.header = header;
    }

    /** Opens {@code path} and validates its whole header against the file's size. */
    public static SafetensorsFile open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new CheckpointException(path + ": safetensors file not found");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path + ": safetensors file not found", e);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            SafetensorsHeader header = SafetensorsHeader.read(channel, path);
            LOG.debug("{}: {} tensors, data section at byte {}", path, header.entries().size(), header.dataStart());
            return new SafetensorsFile(path, channel, header);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new CheckpointException(path + ": cannot read the safetensors header: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The header's {@code __metadata__} (e.g. {@code format: pt}); empty when absent. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    @Override
    public String location() {
        return path.toString();
    }

    @Override
    public Set<String> names() {
        return header.entries().keySet();
    }

    @Override
    public boolean contains(String name) {
        return header.entries().containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return entry(name).info();
    }

    @Override
    public INDArray loadFloat(String name, long... expectedShape) {
        ensureOpen();
        require(name, expectedShape);
        SafetensorsHeader.Entry entry = entry(name);
        try {
            return TensorDecoder.decode(channel, header.dataStart() + entry.begin(), entry.dtype(), expectedShape);
        } catch (IOException e) {
            throw new CheckpointException(path + ": tensor '" + name + "': cannot read data: " + e.getMessage(), e);
        }
    }

    @Override
    public Weight loadWeight(String name, WeightFormat format, long rows, long cols) {
        ensureOpen();
        require(name, rows, cols);
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new CheckpointException(path + ": tensor '" + name + "' is too large for one weight matrix");
        }
        SafetensorsHeader.Entry entry = entry(name);
        try {
            return WeightReader.read(channel, header.dataStart() + entry.begin(), entry.dtype(), (int) rows, (int) cols,
                    format, path + ": tensor '" + name + "'");
        } catch (IOException e) {
            throw new CheckpointException(path + ": tensor '" + name + "': cannot read data: " + e.getMessage(), e);
        }
    }

    @Override
    public WeightFormat storedFormat(String name) {
        SafetensorsHeader.Entry entry = entry(name);
        if (entry.dtype() == null || !entry.dtype().loadable) {
            throw new CheckpointException(path + ": tensor '" + name + "' has dtype " + entry.info().dtype()
                    + ", which cannot be loaded as weights; supported: F32, F16, BF16");
        }
        return WeightReader.storedFormat(entry.dtype());
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeQuietly(channel);
        }
    }

    private SafetensorsHeader.Entry entry(String name) {
        SafetensorsHeader.Entry entry = header.entries().get(name);
        if (entry == null) {
            throw TensorNameHints.missing(name, path.toString(), names());
        }
        return entry;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a safetensors file failed", e);
        }
    }
}
