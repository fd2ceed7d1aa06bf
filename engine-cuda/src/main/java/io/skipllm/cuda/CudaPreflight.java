package io.skipllm.cuda;

import io.skipllm.SkipLlmException;
import io.skipllm.backend.BackendPreflight;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;

/**
 * Checks, before ND4J is touched, that this machine can run ND4J 1.0.0-M2.1's CUDA backend: the NVIDIA
 * driver and the CUDA 11 runtime libraries load, there is a device, every visible device is one the
 * native build has machine code for, and cuBLAS loads. Each failure is one sentence naming what is
 * missing. Registered through {@code META-INF/services/io.skipllm.backend.BackendPreflight}; it does
 * nothing when ND4J's CUDA backend is not on the classpath (so the same classes work with the CPU
 * backend, which is how {@code GpuCheck} is tested on machines without a GPU).
 */
public final class CudaPreflight implements BackendPreflight {

    /**
     * Compute capabilities for which {@code libnd4jcuda.so} of {@code nd4j-cuda-11.6:1.0.0-M2.1:linux-x86_64}
     * carries machine code (SASS), read from its {@code .nv_fatbin} section with
     * {@code engine-cuda/scripts/fatbin_archs.py}. It carries no PTX, so the driver cannot compile
     * kernels for a newer architecture: a GPU runs it only if one of these has the same major version
     * and a minor version not above the GPU's (CUDA's binary compatibility rule).
     */
    static final int[][] SASS_ARCHS = {{3, 7}, {5, 0}, {5, 2}, {6, 0}, {6, 1}, {7, 0}, {7, 5}, {8, 0}, {8, 6}};

    /** Set to {@code true} to try a GPU the native build has no code for anyway (to record what happens). */
    public static final String SKIP_ARCH_CHECK = "skipllm.cuda.skipArchCheck";

    static final String PREFIX = "CUDA backend could not initialize: ";
    static final String ADVICE = ". skipllm-cuda.jar needs an NVIDIA GPU of compute capability 3.7 to 8.9"
            + " with its driver and the CUDA 11 runtime (see docs/cuda.md); use engine-core's skipllm.jar"
            + " to run on the CPU";

    /** What the probe found on a machine where the checks passed. */
    public record Probe(int driverVersion, int runtimeVersion, List<Gpu> gpus) {
    }

    /** One visible GPU. */
    public record Gpu(int index, String name, int major, int minor, long totalBytes, boolean supported) {
    }

    @Override
    public void check() {
        if (cudaBackendOnClasspath()) {
            probe();
        }
    }

    @Override
    public String hint() {
        return cudaBackendOnClasspath() ? ADVICE : "";
    }

    static boolean cudaBackendOnClasspath() {
        try {
            Class.forName("org.nd4j.linalg.jcublas.JCublasBackend", false, CudaPreflight.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private static Probe probed;
    private static SkipLlmException failed;

    /**
     * Runs every check once per JVM and returns what it found (the same result on later calls).
     *
     * @throws SkipLlmException naming the first thing that is missing (the same message on later calls)
     */
    public static synchronized Probe probe() {
        // Cached because only the first attempt can say why: JavaCPP's first load error carries the
        // dynamic linker's message (e.g. libcuda.so.1 missing); later ones are NoClassDefFoundErrors.
        if (probed != null) {
            return probed;
        }
        if (failed != null) {
            throw new SkipLlmException(failed.getMessage(), failed);
        }
        try {
            probed = runChecks();
            return probed;
        } catch (SkipLlmException e) {
            failed = e;
            throw e;
        }
    }

    private static Probe runChecks() {
        try {
            Loader.load(cudart.class);
        } catch (Throwable t) { // UnsatisfiedLinkError, or NoClassDefFoundError once a first load failed
            throw new SkipLlmException(PREFIX + explainLoadFailure(t) + ADVICE, t);
        }
        int[] value = {0};
        int driver = cudart.cudaDriverGetVersion(value) == cudart.cudaSuccess ? value[0] : -1;
        int runtime = cudart.cudaRuntimeGetVersion(value) == cudart.cudaSuccess ? value[0] : -1;
        int[] count = {0};
        int rc = cudart.cudaGetDeviceCount(count);
        if (rc != cudart.cudaSuccess) {
            throw new SkipLlmException(PREFIX + "no usable CUDA device (cudaGetDeviceCount: " + errorString(rc)
                    + "; driver supports CUDA " + version(driver) + ", runtime is CUDA " + version(runtime) + ")"
                    + ADVICE);
        }
        if (count[0] <= 0) {
            throw new SkipLlmException(PREFIX + "no CUDA device found" + ADVICE);
        }
        List<Gpu> gpus = new ArrayList<>();
        for (int i = 0; i < count[0]; i++) {
            gpus.add(gpu(i));
        }
        List<Gpu> unsupported = gpus.stream().filter(g -> !g.supported()).toList();
        if (!unsupported.isEmpty() && !Boolean.getBoolean(SKIP_ARCH_CHECK)) {
            throw new SkipLlmException(PREFIX + unsupported.stream()
                    .map(g -> "GPU " + g.index() + " (" + g.name() + ") has compute capability " + g.major() + "."
                            + g.minor())
                    .collect(Collectors.joining(", "))
                    + ", and ND4J 1.0.0-M2.1's CUDA build has machine code only for compute capability "
                    + archList() + " and no PTX the driver could compile for a newer GPU"
                    + (unsupported.size() < gpus.size() ? " (CUDA_VISIBLE_DEVICES can hide it)" : "")
                    + "; -D" + SKIP_ARCH_CHECK + "=true tries anyway" + ADVICE);
        }
        try {
            Loader.load(org.bytedeco.cuda.global.cublas.class);
        } catch (Throwable t) {
            throw new SkipLlmException(PREFIX + explainLoadFailure(t) + ADVICE, t);
        }
        return new Probe(driver, runtime, List.copyOf(gpus));
    }

    private static Gpu gpu(int index) {
        int[] major = {-1};
        int[] minor = {-1};
        cudart.cudaDeviceGetAttribute(major, cudart.cudaDevAttrComputeCapabilityMajor, index);
        cudart.cudaDeviceGetAttribute(minor, cudart.cudaDevAttrComputeCapabilityMinor, index);
        String name = "unknown";
        long total = -1;
        try (cudaDeviceProp prop = new cudaDeviceProp()) {
            if (cudart.cudaGetDeviceProperties(prop, index) == cudart.cudaSuccess) {
                name = prop.name().getString();
                total = prop.totalGlobalMem();
            }
        }
        return new Gpu(index, name, major[0], minor[0], total, hasMachineCodeFor(major[0], minor[0]));
    }

    /** CUDA runs a cubin built for sm_XY on devices of compute capability X.Z with Z >= Y, nothing else. */
    static boolean hasMachineCodeFor(int major, int minor) {
        for (int[] arch : SASS_ARCHS) {
            if (arch[0] == major && arch[1] <= minor) {
                return true;
            }
        }
        return false;
    }

    static String archList() {
        StringBuilder s = new StringBuilder();
        for (int[] arch : SASS_ARCHS) {
            s.append(s.length() == 0 ? "" : ", ").append(arch[0]).append('.').append(arch[1]);
        }
        return s.toString();
    }

    /** Names the missing piece from the dynamic linker's message. */
    static String explainLoadFailure(Throwable t) {
        String message = rootMessage(t);
        if (message.contains("libcuda.so")) {
            return "no NVIDIA driver on this machine (" + message + ")";
        }
        if (message.contains("libcudart.so.11") || message.contains("libcublas") || message.contains("libcusolver")) {
            return "the CUDA 11 runtime libraries ND4J 1.0.0-M2.1 is built against are missing (" + message
                    + "); put CUDA 11.x's libcudart, libcublas, libcublasLt and libcusolver on LD_LIBRARY_PATH,"
                    + " or build skipllm-cuda.jar with -Pcuda-redist";
        }
        return "the CUDA libraries could not be loaded (" + message + ")";
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage().replace('\n', ' ');
    }

    private static String errorString(int rc) {
        try {
            return cudart.cudaGetErrorString(rc).getString() + " (" + rc + ")";
        } catch (Throwable t) {
            return "error " + rc;
        }
    }

    /** CUDA's version integers are 1000 * major + 10 * minor. */
    static String version(int v) {
        return v < 0 ? "unknown" : (v / 1000) + "." + (v % 1000) / 10;
    }
}
