#!/usr/bin/env bash
# GPU check of skipllm-cuda.jar: the reference-logit suite, a small generation run and `bench` on a
# random: model, on an NVIDIA GPU. Writes everything to OUTDIR; finishes in under 8 minutes.
#
#   engine-cuda/gpu-check.sh OUTDIR
#
# Run from a checkout (it needs models/reference/fixtures) that has engine-cuda/target/skipllm-cuda.jar
# (built with `mvn -q -DskipTests package`, preferably with -Pcuda-redist so only the NVIDIA driver is
# needed), or point SKIPLLM_CUDA_JAR at the jar. Needs java 17+ and no network. When `mvn` and a filled
# ~/.m2 are there (offline), it also runs the GPU tests through surefire; SKIPLLM_GPU_CHECK_MAVEN=0 skips that.
#
# OUTDIR gets: gpu-check.log (everything printed), environment.txt, nvidia-smi.txt, gpu-check.json
# (reference logits and generation, from io.skipllm.cuda.GpuCheck), bench-{small,large}.{json,log}, forced/
# (only when the GPU was refused for its architecture: the same checks forced, to record what happens),
# surefire/ (when Maven ran), hs_err_*.log (if a JVM crashed) and summary.txt (one line per step).
#
# Exit code: 0 every step passed; 1 a check failed; 2 usage; 3 blocked (no GPU/driver, no jar, no java,
# or the CUDA backend refused to start: the reason is in gpu-check.json and summary.txt).
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
OUT=$1
mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.." || exit 2
REPO=$(pwd)
exec > >(tee -a "$OUT/gpu-check.log") 2>&1

BUDGET=450              # seconds for everything (8 minutes = 480, minus a margin for start-up and copying)
START=$SECONDS
STATUS=0
summary() { echo "$1" | tee -a "$OUT/summary.txt"; }
# seconds left for a step that wants at most $1, or 0 when there is too little left to start it
left() { local rest=$((BUDGET - (SECONDS - START))); (( rest > $1 )) && echo "$1" || { (( rest >= 20 )) && echo "$rest" || echo 0; }; }
fail() { (( STATUS == 0 || STATUS == 1 )) && STATUS=$1; }
: > "$OUT/summary.txt"

echo "== skipllm GPU check, $(date -u +%FT%TZ), output in $OUT"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -a)"
  echo "commit: $(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "java: $(java -version 2>&1 | tr '\n' ' ')"
  echo "cpus: $(nproc 2>/dev/null)"
  echo "memory: $(free -g 2>/dev/null | sed -n 2p)"
  echo "LD_LIBRARY_PATH: ${LD_LIBRARY_PATH:-}"
  echo "CUDA libraries the dynamic linker knows:"
  ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libcudart|libcublas|libcusolver' || echo "  (none)"
} > "$OUT/environment.txt" 2>&1
cat "$OUT/environment.txt"

if command -v nvidia-smi > /dev/null; then
  timeout 60 nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
  timeout 60 nvidia-smi --query-gpu=index,name,compute_cap,driver_version,memory.total --format=csv \
    >> "$OUT/nvidia-smi.txt" 2>&1
  cat "$OUT/nvidia-smi.txt"
  summary "nvidia-smi: $(grep -m1 -o 'Driver Version: [0-9.]*' "$OUT/nvidia-smi.txt" || echo 'no driver version')"
else
  summary "nvidia-smi: not found (no NVIDIA driver installed?)"
fi

if ! command -v java > /dev/null; then
  summary "BLOCKED: no java on PATH (skipllm-cuda.jar needs Java 17+)"
  exit 3
fi

JAR=${SKIPLLM_CUDA_JAR:-$REPO/engine-cuda/target/skipllm-cuda.jar}
if [[ ! -f $JAR ]]; then
  summary "BLOCKED: $JAR does not exist. Build it where Maven Central is reachable (mvn -q -DskipTests package -Pcuda-redist)"
  summary "         and copy it here, or set SKIPLLM_CUDA_JAR; it is ~0.65 GB (~1.0 GB with the CUDA runtime), see docs/cuda.md"
  exit 3
fi
summary "jar: $JAR ($(du -h "$JAR" | cut -f1))"
JVM=(java -Xmx8g "-XX:ErrorFile=$OUT/hs_err_%p.log")

# 1. Reference logits (every fixture and case) and the small generation run, from the jar.
T=$(left 200)
if (( T > 0 )); then
  echo "== GpuCheck (timeout ${T}s)"
  timeout "$T" "${JVM[@]}" -cp "$JAR" io.skipllm.cuda.GpuCheck --out "$OUT" --fixtures "$REPO/models/reference/fixtures"
  rc=$?
  case $rc in
    0) summary "GpuCheck: PASSED (reference logits and generation; $OUT/gpu-check.json)" ;;
    3) summary "GpuCheck: BLOCKED, the CUDA backend did not start: $(grep -o '"backend_error" : "[^"]*' "$OUT/gpu-check.json" | cut -d'"' -f4)"
       fail 3 ;;
    124) summary "GpuCheck: TIMED OUT after ${T}s"; fail 1 ;;
    *) summary "GpuCheck: FAILED (exit $rc; details in $OUT/gpu-check.json and above)"; fail 1 ;;
  esac
  if (( rc == 3 )) && grep -q 'has compute capability' "$OUT/gpu-check.json"; then
    # The preflight refused the GPU because ND4J 1.0.0-M2.1 has no machine code for it. Record what
    # actually happens when forced (an error, wrong numbers or a crash), in a separate JVM and folder.
    T=$(left 90)
    if (( T > 0 )); then
      mkdir -p "$OUT/forced"
      echo "== GpuCheck forced past the architecture check (timeout ${T}s)"
      timeout "$T" "${JVM[@]}" -Dskipllm.cuda.skipArchCheck=true -cp "$JAR" io.skipllm.cuda.GpuCheck \
        --out "$OUT/forced" --fixtures "$REPO/models/reference/fixtures" > "$OUT/forced/gpu-check.log" 2>&1
      frc=$?
      tail -n 30 "$OUT/forced/gpu-check.log"
      summary "GpuCheck forced onto the unsupported GPU: exit $frc (0 passed, 1 failed, 3 backend error, 124 timeout, 134/139 crash; $OUT/forced/)"
    fi
  fi
else
  summary "GpuCheck: SKIPPED, out of time"; fail 1
fi

# 2. bench on random LLaMA-like models (no download): unified skipping beside full depth. A small model
#    first (its numbers measure per-op overhead, and it finishes even on a slow machine), then one with
#    the shape of the README's example (1.7 GB of float32 weights) while time remains.
bench() { # NAME SPEC WANTED_SECONDS
  local T; T=$(left "$3")
  if (( STATUS == 3 )); then summary "bench $1: SKIPPED, the CUDA backend did not start"; return; fi
  if (( T == 0 )); then summary "bench $1: SKIPPED, out of time"; fail 1; return; fi
  echo "== bench $1: $2 (timeout ${T}s)"
  timeout "$T" "${JVM[@]}" -jar "$JAR" bench --model "$2" --strategies unified --speedups 2,5 \
    --batch-sizes 1,8 --prompt-tokens 32 --new-tokens 32 --warmup 1 --repeats 2 --json --debug \
    > "$OUT/bench-$1.json" 2> "$OUT/bench-$1.log"
  local rc=$?
  cat "$OUT/bench-$1.log" "$OUT/bench-$1.json"
  if (( rc == 0 )); then summary "bench $1: PASSED ($OUT/bench-$1.json)"
  else summary "bench $1: FAILED (exit $rc; 124 = timed out; $OUT/bench-$1.log)"; fail 1; fi
}
bench small random:llama,layers=8,hidden=256,heads=4,kv_heads=4,intermediate=704,vocab=1000,seed=1 100
bench large random:llama,layers=32,hidden=1024,heads=16,kv_heads=16,intermediate=2816,vocab=32000,seed=1 150

# 3. The GPU tests through surefire, when Maven and its local repository are here (offline only).
T=$(left 150)
if [[ ${SKIPLLM_GPU_CHECK_MAVEN:-1} != 0 ]] && command -v mvn > /dev/null && (( STATUS != 3 && T > 0 )); then
  echo "== mvn -o test of the GPU tests (timeout ${T}s)"
  timeout "$T" mvn -o -q -pl engine-core,engine-cuda -am test -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtest='GpuReferenceLogitsTest,GpuGenerationTest,CudaBackendTest' > "$OUT/maven-test.log" 2>&1
  rc=$?
  mkdir -p "$OUT/surefire" && cp engine-cuda/target/surefire-reports/*.txt "$OUT/surefire/" 2> /dev/null
  tail -n 40 "$OUT/maven-test.log"
  if (( rc == 0 )); then summary "surefire GPU tests: PASSED ($OUT/surefire)"
  else summary "surefire GPU tests: exit $rc (offline Maven without a filled ~/.m2 fails here too; $OUT/maven-test.log)"; fi
else
  summary "surefire GPU tests: not run (no mvn, SKIPLLM_GPU_CHECK_MAVEN=0, the backend did not start, or out of time)"
fi

ls "$OUT"/hs_err_*.log > /dev/null 2>&1 && { summary "JVM CRASH: see $OUT/hs_err_*.log"; fail 1; }
summary "done in $((SECONDS - START))s, exit $STATUS"
exit $STATUS
