package io.skipllm.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The native kernels ({@code src/main/native/skipllm_kernels.c}, compiled by the Maven build with the
 * machine's gcc and packaged in the jar as {@code native/linux-x86_64/libskipllm_kernels.so}): AVX-512
 * float kernels for F32/BF16/F16 and VNNI int8 dot products for Q8_0/Q4_0 on inputs quantized to int8
 * once per product, as llama.cpp does. Why native: the Vector API of JDK 17-25 has no int8 dot product,
 * and its quantized loops measured at 28% of memory bandwidth where VNNI reaches it.
 *
 * <p>{@link #load} says why when they cannot run (not linux-x86_64, no library in the jar, a CPU without
 * AVX-512 VNNI); {@link MatMul} then uses the Java kernels.
 */
final class NativeKernels implements Kernels {

    static final String RESOURCE = "/native/linux-x86_64/libskipllm_kernels.so";

    /** Per calling thread: the quantized inputs of its current product (grown, never shrunk). */
    private static final ThreadLocal<ByteBuffer[]> QUANTIZED = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

    private NativeKernels() {
    }

    private static NativeKernels loaded;
    private static String notLoaded;

    /** The kernels, or null with the reason in {@code why[0]}; the library is loaded once per JVM. */
    static synchronized NativeKernels load(String[] why) {
        if (loaded == null && notLoaded == null) {
            String[] reason = new String[1];
            loaded = loadLibrary(reason);
            notLoaded = reason[0];
        }
        why[0] = notLoaded;
        return loaded;
    }

    private static NativeKernels loadLibrary(String[] why) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            why[0] = "no native kernels for " + os + "/" + arch + " (linux-x86_64 only)";
            return null;
        }
        try (InputStream in = NativeKernels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                why[0] = "the native kernel library is not in this build (" + RESOURCE + ")";
                return null;
            }
            Path file = Files.createTempFile("skipllm_kernels", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            why[0] = "the native kernel library did not load: " + e.getMessage();
            return null;
        }
        if (!supported()) {
            why[0] = "this CPU lacks AVX-512 with VNNI, which the native kernels need";
            return null;
        }
        return new NativeKernels();
    }

    @Override
    public RowTask task(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        ByteBuffer quantized = null;
        if (w.format().quantized()) {
            long bytes = Math.multiplyExact(quantizedRowBytes(w.format().ordinal(), w.cols()), (long) n);
            ByteBuffer[] holder = QUANTIZED.get();
            if (holder[0] == null || holder[0].capacity() < bytes) {
                holder[0] = ByteBuffer.allocateDirect((int) Math.max(bytes, 64 * 1024)).order(ByteOrder.LITTLE_ENDIAN);
            }
            quantized = holder[0];
            quantize(x, n, w.cols(), quantized, w.format().ordinal());
        }
        return new NativeRows(w, x, quantized, n, out, accumulate);
    }

    @Override
    public String description() {
        return "native AVX-512 VNNI";
    }

    private static final class NativeRows extends RowTask {
        private final ByteBuffer quantized;
        private final int format;

        NativeRows(Weight w, float[] x, ByteBuffer quantized, int n, float[] out, boolean accumulate) {
            super(w, x, n, out, accumulate);
            this.quantized = quantized;
            this.format = w.format().ordinal();
        }

        @Override
        void computeRows(ByteBuffer data, int partRow, int count, int outRow) {
            if (!data.isDirect()) {
                throw new IllegalStateException("native kernels need weights in off-heap memory");
            }
            multiply(format, data, rowAt(partRow), count, cols, x, quantized, n, out, rows, outRow, accumulate);
        }
    }

    private static native boolean supported();

    /** Bytes one input row of {@code cols} takes quantized for weights of a format (the C file's layouts). */
    static native long quantizedRowBytes(int format, int cols);

    /** Quantizes {@code x[n, cols]} into {@code into}, laid out for weights of a format (its ordinal). */
    private static native void quantize(float[] x, int n, int cols, ByteBuffer into, int format);

    private static native void multiply(int format, ByteBuffer weights, long byteOffset, int count, int cols,
            float[] x, ByteBuffer quantized, int n, float[] out, int outStride, int outRow, boolean accumulate);
}
