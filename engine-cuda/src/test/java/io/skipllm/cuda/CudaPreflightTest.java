package io.skipllm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The preflight's rules, without a GPU: which GPUs the native build can run on, and what a load error means. */
class CudaPreflightTest {

    @Test
    void machineCodeFollowsCudasBinaryCompatibilityRule() {
        assertTrue(CudaPreflight.hasMachineCodeFor(8, 6), "A10, RTX 30xx: sm_86 itself");
        assertTrue(CudaPreflight.hasMachineCodeFor(8, 9), "L4, RTX 40xx: sm_86 code runs on 8.9");
        assertTrue(CudaPreflight.hasMachineCodeFor(8, 0), "A100");
        assertTrue(CudaPreflight.hasMachineCodeFor(7, 0), "V100");
        assertTrue(CudaPreflight.hasMachineCodeFor(7, 5), "T4");
        assertTrue(CudaPreflight.hasMachineCodeFor(3, 7), "K80");
        assertFalse(CudaPreflight.hasMachineCodeFor(3, 5), "K40: older than the oldest cubin");
        assertFalse(CudaPreflight.hasMachineCodeFor(9, 0), "H100/H200: no sm_90 code and no PTX");
        assertFalse(CudaPreflight.hasMachineCodeFor(10, 0), "B200");
        assertFalse(CudaPreflight.hasMachineCodeFor(12, 0), "RTX 50xx");
        assertEquals("3.7, 5.0, 5.2, 6.0, 6.1, 7.0, 7.5, 8.0, 8.6", CudaPreflight.archList());
    }

    @Test
    void loadErrorsNameTheMissingPiece() {
        String noDriver = CudaPreflight.explainLoadFailure(new UnsatisfiedLinkError(
                "/root/.javacpp/cache/cuda-11.6-8.3-1.5.7-linux-x86_64.jar/org/bytedeco/cuda/linux-x86_64/"
                        + "libjnicudart.so: libcuda.so.1: cannot open shared object file: No such file or directory"));
        assertTrue(noDriver.startsWith("no NVIDIA driver on this machine"), noDriver);
        String noRuntime = CudaPreflight.explainLoadFailure(new UnsatisfiedLinkError(
                "/x/libjnicudart.so: libcudart.so.11.0: cannot open shared object file"));
        assertTrue(noRuntime.startsWith("the CUDA 11 runtime libraries"), noRuntime);
        assertTrue(noRuntime.contains("-Pcuda-redist"), noRuntime);
        String noCublas = CudaPreflight.explainLoadFailure(new RuntimeException("wrapped",
                new UnsatisfiedLinkError("/x/libjnicublas.so: libcublasLt.so.11: cannot open shared object file")));
        assertTrue(noCublas.startsWith("the CUDA 11 runtime libraries"), noCublas);
    }

    @Test
    void cudaVersionsAreFormattedAsMajorDotMinor() {
        assertEquals("11.6", CudaPreflight.version(11060));
        assertEquals("13.0", CudaPreflight.version(13000));
        assertEquals("12.4", CudaPreflight.version(12040));
        assertEquals("unknown", CudaPreflight.version(-1));
    }
}
