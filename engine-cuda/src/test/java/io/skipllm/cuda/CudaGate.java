package io.skipllm.cuda;

import io.skipllm.SkipLlmException;
import io.skipllm.backend.Backend;
import io.skipllm.backend.BackendInfo;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/** Whether the CUDA backend started in this JVM; GPU tests skip, printing why, when it did not. */
final class CudaGate {

    static final Path FIXTURES = Path.of("..", "models", "reference", "fixtures");

    private static Optional<String> reason;

    private CudaGate() {
    }

    /** Empty when the CUDA backend is running, else why not. Starts the backend on the first call. */
    static synchronized Optional<String> unavailableReason() {
        if (reason == null) {
            try {
                BackendInfo info = Backend.require();
                reason = info.isCuda() ? Optional.empty()
                        : Optional.of("the backend is " + info.describe() + ", not CUDA");
            } catch (SkipLlmException e) {
                reason = Optional.of(e.getMessage());
            }
        }
        return reason;
    }

    /** Skips the calling test (printing the reason, which surefire's summary does not show) without CUDA. */
    static void assumeCuda(String what) {
        Optional<String> why = unavailableReason();
        why.ifPresent(r -> System.out.println("SKIPPED " + what + ": " + r));
        Assumptions.assumeTrue(why.isEmpty(), () -> what + " needs the CUDA backend: " + why.orElse(""));
    }
}
