package io.skipllm.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.SkipLlmException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CPU build reports the CPU backend; a failing preflight or linkage error becomes one clear message. */
class BackendTest {

    @Test
    void theCpuBuildReportsTheCpuBackendWithItsThreads() {
        BackendInfo info = Backend.require();
        assertEquals("CPU", info.name());
        assertFalse(info.isCuda());
        assertTrue(info.devices().isEmpty(), "the CPU backend has no accelerator devices: " + info.devices());
        assertTrue(info.threads() >= 1, "threads " + info.threads());
        assertEquals("linux-x86_64", info.platform());
        // onednn-avx2 is the default native build (root pom); a build with another classifier may lack it
        String line = info.describe();
        assertTrue(line.startsWith("CPU (linux-x86_64, "), line);
        assertTrue(line.endsWith(info.threads() + (info.threads() == 1 ? " thread" : " threads")), line);
        assertSame(info, Backend.require(), "initialized once per JVM");
    }

    @Test
    void aFailingPreflightStopsBeforeNd4jWithItsOwnMessage() {
        BackendPreflight noDriver = () -> {
            throw new SkipLlmException("CUDA backend could not initialize: no NVIDIA driver");
        };
        SkipLlmException e = assertThrows(SkipLlmException.class, () -> Backend.initialize(List.of(noDriver)));
        assertEquals("CUDA backend could not initialize: no NVIDIA driver", e.getMessage());
    }

    @Test
    void aLinkageErrorInAPreflightIsAClearExceptionNotAnError() {
        BackendPreflight broken = () -> {
            throw new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file");
        };
        SkipLlmException e = assertThrows(SkipLlmException.class, () -> Backend.initialize(List.of(broken)));
        assertEquals("backend check failed: UnsatisfiedLinkError: libcuda.so.1: cannot open shared object file",
                e.getMessage());
    }

    @Test
    void passingPreflightsLeaveTheBackendRunning() {
        int[] calls = {0};
        BackendPreflight ok = () -> calls[0]++;
        BackendInfo info = Backend.initialize(List.of(ok, ok));
        assertEquals(2, calls[0]);
        assertEquals("CPU", info.name());
    }

    @Test
    void rootMessageDigsOutTheInnermostCause() {
        Throwable t = new ExceptionInInitializerError(new RuntimeException("wrapper",
                new IllegalStateException("No CUDA devices were found in system")));
        assertEquals("IllegalStateException: No CUDA devices were found in system", Backend.rootMessage(t));
    }

    @Test
    void aCudaDescriptionNamesEachDevice() {
        BackendInfo info = new BackendInfo("CUDA", "linux-x86_64", "CUBLAS", List.of(), 16,
                List.of(new BackendInfo.Device(0, "NVIDIA H200", 9, 0, 150_000_000_000L)));
        assertTrue(info.isCuda());
        assertEquals("CUDA (linux-x86_64, CUBLAS), device 0 of 1: NVIDIA H200, compute capability 9.0, 139.7 GiB",
                info.describe());
    }
}
