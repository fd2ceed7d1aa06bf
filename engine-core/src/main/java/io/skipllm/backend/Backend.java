package io.skipllm.backend;

import io.skipllm.SkipLlmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import org.bytedeco.javacpp.Loader;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts ND4J's backend once per JVM and reports which one it is. Whichever backend jar is on the
 * classpath decides (ND4J's own choice: {@code nd4j-native} in {@code skipllm.jar}, {@code nd4j-cuda}
 * in {@code skipllm-cuda.jar}); this class only turns a failure into one clear
 * {@link SkipLlmException} and describes the result.
 *
 * <p>Why it exists: when ND4J's backend cannot load, ND4J prints a stack trace to stderr, and the
 * static initializer of {@code Nd4j} fails with {@code ExceptionInInitializerError} the first time and
 * {@code NoClassDefFoundError} ever after, neither of which says what is wrong. Here the registered
 * {@link BackendPreflight}s run first, every {@code Throwable} of the initialization (linkage errors
 * included) is caught, and the same message is thrown again on every later call.
 */
public final class Backend {

    private static final Logger LOG = LoggerFactory.getLogger(Backend.class);

    private static BackendInfo info;
    private static SkipLlmException failure;

    private Backend() {
    }

    /**
     * The backend in use, initializing ND4J on the first call (later calls return the same value).
     *
     * @throws SkipLlmException when the backend cannot start on this machine; its message says why
     */
    public static synchronized BackendInfo require() {
        if (info != null) {
            return info;
        }
        if (failure != null) {
            throw new SkipLlmException(failure.getMessage(), failure);
        }
        try {
            info = initialize(ServiceLoader.load(BackendPreflight.class, Backend.class.getClassLoader()));
            LOG.info("backend: {}", info.describe());
            return info;
        } catch (SkipLlmException e) {
            failure = e;
            throw e;
        }
    }

    /**
     * Runs the preflights, then initializes ND4J and runs one small operation on it. Not cached: the
     * cached entry point is {@link #require()}; this one exists so tests can pass their own preflights.
     */
    static BackendInfo initialize(Iterable<BackendPreflight> preflights) {
        StringBuilder hints = new StringBuilder();
        try {
            for (BackendPreflight p : preflights) {
                p.check();
                hints.append(p.hint());
            }
        } catch (SkipLlmException e) {
            throw e;
        } catch (Throwable t) { // ServiceConfigurationError, linkage errors from a preflight's native probe
            throw new SkipLlmException("backend check failed: " + rootMessage(t), t);
        }
        BackendInfo found;
        try {
            found = describe(Nd4j.getExecutioner().getEnvironmentInformation());
        } catch (Throwable t) {
            throw new SkipLlmException("ND4J backend could not initialize: " + rootMessage(t) + hints, t);
        }
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            smokeTest();
        } catch (Throwable t) {
            // A GPU whose architecture the native build has no code for fails here, at the first kernel,
            // rather than in the middle of a request.
            throw new SkipLlmException("ND4J backend " + found.describe() + " started but could not run a first"
                    + " operation: " + rootMessage(t) + hints, t);
        }
        return found;
    }

    /** A transform and a reduction, read back to the host: the path every decode step takes. */
    private static void smokeTest() {
        try (INDArray x = Nd4j.createFromArray(1f, 2f, 3f, 4f); INDArray doubled = x.mul(2f)) {
            float sum = doubled.sumNumber().floatValue();
            if (sum != 20f) {
                throw new IllegalStateException("2 * [1, 2, 3, 4] summed to " + sum + " instead of 20");
            }
        }
    }

    @SuppressWarnings("unchecked")
    static BackendInfo describe(Properties env) {
        String name = String.valueOf(env.getOrDefault("backend", Nd4j.getBackend().getClass().getSimpleName()));
        String blas = String.valueOf(env.getOrDefault("blas.vendor", "unknown BLAS"));
        List<String> features = new ArrayList<>();
        String build = Nd4j.getBackend().buildInfo();
        if (build != null && build.contains("HAVE_ONEDNN")) {
            features.add("oneDNN");
        }
        if (build != null && build.contains("HAVE_CUDNN")) {
            features.add("cuDNN");
        }
        int threads = Nd4j.getEnvironment().maxMasterThreads();
        List<BackendInfo.Device> devices = new ArrayList<>();
        Object list = env.get("cuda.devicesInformation");
        if (list instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                Map<String, Object> d = (Map<String, Object>) l.get(i);
                devices.add(new BackendInfo.Device(i, String.valueOf(d.get("cuda.deviceName")),
                        intOr(d.get("cuda.deviceMajor")), intOr(d.get("cuda.deviceMinor")),
                        longOr(d.get("cuda.totalMemory"))));
            }
        }
        return new BackendInfo(name, Loader.getPlatform(), blas, features, threads, devices);
    }

    private static int intOr(Object o) {
        return o instanceof Number n ? n.intValue() : -1;
    }

    private static long longOr(Object o) {
        return o instanceof Number n ? n.longValue() : -1;
    }

    /** The innermost cause's class and message: ND4J wraps the useful part two or three levels down. */
    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message.replace('\n', ' '));
    }
}
