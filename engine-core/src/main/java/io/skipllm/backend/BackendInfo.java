package io.skipllm.backend;

import java.util.List;
import java.util.Locale;

/**
 * The ND4J backend in use, as {@link Backend#require()} found it.
 *
 * @param name       {@code "CPU"} or {@code "CUDA"} (ND4J's own name for the backend)
 * @param platform   the native platform ND4J was loaded for, e.g. {@code linux-x86_64}
 * @param blas       the BLAS library ND4J reports, e.g. {@code OPENBLAS} or {@code CUBLAS}
 * @param features   native build features worth knowing for performance, e.g. {@code oneDNN}
 * @param threads    threads ND4J's native code may use on the host
 * @param devices    accelerator devices ND4J sees (empty for the CPU backend)
 */
public record BackendInfo(String name, String platform, String blas, List<String> features, int threads,
        List<Device> devices) {

    public BackendInfo {
        features = List.copyOf(features);
        devices = List.copyOf(devices);
    }

    /**
     * One accelerator.
     *
     * @param index        ND4J's device number
     * @param name         the device's name as the driver reports it
     * @param major        compute capability, major part (-1 when unknown)
     * @param minor        compute capability, minor part (-1 when unknown)
     * @param totalBytes   device memory (-1 when unknown)
     */
    public record Device(int index, String name, int major, int minor, long totalBytes) {

        String describe() {
            StringBuilder s = new StringBuilder(name);
            if (major >= 0) {
                s.append(", compute capability ").append(major).append('.').append(minor);
            }
            if (totalBytes > 0) {
                s.append(String.format(Locale.ROOT, ", %.1f GiB", totalBytes / (double) (1L << 30)));
            }
            return s.toString();
        }
    }

    public boolean isCuda() {
        return name.equalsIgnoreCase("CUDA");
    }

    /** The forward pass a model loaded without {@code --backend} runs on: {@link ForwardBackend#defaultFor}. */
    public ForwardBackend defaultForward() {
        return ForwardBackend.defaultFor(this);
    }

    /**
     * One line for logs and {@code --debug}, e.g. {@code CPU (linux-x86_64, OPENBLAS, oneDNN), 2 threads}
     * or {@code CUDA (linux-x86_64, CUBLAS), device 0 of 1: NVIDIA A100, compute capability 8.0, 39.4 GiB}.
     */
    public String describe() {
        StringBuilder s = new StringBuilder(name).append(" (").append(platform).append(", ").append(blas);
        for (String f : features) {
            s.append(", ").append(f);
        }
        s.append(')');
        if (devices.isEmpty()) {
            s.append(", ").append(threads).append(threads == 1 ? " thread" : " threads");
        }
        for (Device d : devices) {
            s.append(", device ").append(d.index()).append(" of ").append(devices.size()).append(": ")
                    .append(d.describe());
        }
        return s.toString();
    }
}
