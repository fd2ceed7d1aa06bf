#!/usr/bin/env python3
"""Lists the GPU code a CUDA shared library carries: machine code (SASS) per sm_XY, and PTX.

    python3 engine-cuda/scripts/fatbin_archs.py libnd4jcuda.so

Reads the ELF section .nv_fatbin and walks its fat binaries (magic 0xBA55ED50): each entry has a
kind (1 = PTX, 2 = ELF/SASS) and a target architecture. Without cuobjdump (no CUDA toolkit needed).
This is how CudaPreflight.SASS_ARCHS was measured for nd4j-cuda-11.6 1.0.0-M2.1 (docs/cuda.md).
"""
import collections
import mmap
import struct
import subprocess
import sys


def fatbin_section(path):
    out = subprocess.run(["readelf", "-S", "-W", path], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if ".nv_fatbin" in line:
            fields = line.split("]", 1)[1].split()
            # Name Type Address Off Size ...
            return int(fields[3], 16), int(fields[4], 16)
    sys.exit(f"{path}: no .nv_fatbin section")


def main(path):
    offset, size = fatbin_section(path)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        counts = collections.Counter()
        blobs = 0
        p, end = offset, offset + size
        while p < end - 16:
            magic, _version, header_size, fat_size = struct.unpack_from("<IHHQ", m, p)
            if magic != 0xBA55ED50:
                p += 8  # fat binaries are 8-byte aligned inside the section
                continue
            blobs += 1
            q, blob_end = p + header_size, p + header_size + fat_size
            while q < blob_end:
                kind, _, entry_header, entry_size = struct.unpack_from("<HHIQ", m, q)
                if entry_header == 0:
                    break
                arch = struct.unpack_from("<I", m, q + 28)[0]
                counts[("PTX" if kind == 1 else "SASS" if kind == 2 else f"kind{kind}", arch)] += 1
                q += entry_header + entry_size
            p = blob_end
    print(f"{path}: {blobs} fat binaries")
    for (kind, arch), n in sorted(counts.items()):
        print(f"  {kind:4} sm_{arch}: {n} entries")
    if not any(kind == "PTX" for kind, _ in counts):
        print("  no PTX: the driver cannot JIT-compile these kernels for a newer architecture")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
