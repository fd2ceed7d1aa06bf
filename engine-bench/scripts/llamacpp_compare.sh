#!/usr/bin/env bash
# Side-by-side decode/prefill throughput: llama.cpp vs skipllm on the same random LLaMA shape, per
# weight format, on 2 threads.
#
# For each format F32, F16, Q8_0, Q4_0 (in this order, interleaved so machine drift hits both engines alike):
#   llama.cpp  decode batch 1:  llama-bench -m M -p 0 -n 64 -t 2 -r R -o json              (tg64)
#              prefill 128:     llama-bench -m M -p 128 -n 0 -t 2 -r R -o json             (pp128)
#              decode batch 8:  llama-batched-bench -m M -c 2048 -b 2048 -ub 512 -npp 128 -ntg 64
#                               -npl 1,8 -t 2 --output-format jsonl                        (S_TG at npl=8)
#   skipllm    (only when SKIPLLM_JAR is set) java --add-modules jdk.incubator.vector -jar $SKIPLLM_JAR
#              bench --model random:llama,...,dtype=D --weights W --strategies unified --speedups 2,5
#              --batch-sizes 1,8 --prompt-tokens 128 --new-tokens 64 --repeats R --json
#              with (D, W) = (f32, f32) for F32; (f16, f16) and (bf16, bf16) for F16; (f32, q8_0) for Q8_0; (f32, q4_0) for Q4_0
#              (see skipllm_variants below to adjust).
# The GGUF models (random weights, engine-bench/scripts/llamacpp/make_gguf.py) are written once per shape
# into the work dir, F16 and Q8_0 made from the F32 one by llama-quantize, and reused on later runs.
#
# Usage:
#   LLAMA_CPP=/work/llama.cpp [SKIPLLM_JAR=engine-core/target/skipllm.jar] \
#     bash engine-bench/scripts/llamacpp_compare.sh [--shape a|shipped] [--work DIR] [--results DIR]
#                                                   [--reps R] [--formats F32,F16,Q8_0,Q4_0]
#   python3 engine-bench/scripts/llamacpp_table.py RESULTS_DIR      # the markdown table
# Shapes: a (default) = 32 layers, hidden 1024, intermediate 2816, 16/16 heads, vocab 32000 (the
#   random:llama model of docs/benchmarks.md); shipped = 12 layers, hidden 128, intermediate 352,
#   4/4 heads, vocab 4096, context 512 (models/translation/base).
# Output (RESULTS_DIR, default WORK/results-SHAPE): llamacpp.json (all llama.cpp numbers, its commit,
#   the exact commands), skipllm-W.json per skipllm variant (bench --json), raw/ (every raw output and
#   log), commands.txt (every command in run order).
# Needs: LLAMA_CPP = a llama.cpp tree built with `cmake -B build -DCMAKE_BUILD_TYPE=Release
#   -DLLAMA_CURL=OFF && cmake --build build -j2 --target llama-bench llama-batched-bench llama-quantize`
#   (tested with commit c392e5094; the commit recorded is LLAMA_CPP_COMMIT, else `git -C $LLAMA_CPP`
#   for a clone, else the file $LLAMA_CPP/COMMIT for a `git archive` export); a python3 with numpy
#   (PYTHON, default /usr/bin/python3 with Debian's python3-numpy) for the GGUF writer; JDK 17+ for
#   skipllm. Shape a needs ~3.5 GB of disk in the work dir (F32 1.9 GB, F16 1 GB, Q8_0 0.5 GB). A
#   failing skipllm run is reported and skipped (its log beside its JSON); llama.cpp failures stop
#   the script. Takes minutes per format on 2 cores. Run it on an otherwise IDLE machine: llama.cpp
#   (OpenMP build) with -t 2 on 2 cores that other work also uses slows down by up to 50x (threads
#   wait for each other at every op); raw/loadavg.txt records the load before each format.
set -euo pipefail

if [[ -z "${LLAMA_CPP:-}" ]]; then
  echo "error: set LLAMA_CPP to a built llama.cpp tree (e.g. LLAMA_CPP=/work/llama.cpp); see this script's header" >&2
  exit 2
fi
shape=${SHAPE:-a} work=${WORK:-/tmp/skipllm-llamacpp} results="" reps=${REPS:-3} formats=${FORMATS:-F32,F16,Q8_0,Q4_0}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --shape) shape=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --formats) formats=$2; shift 2 ;;
    *) echo "error: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
bin=$LLAMA_CPP/build/bin
for t in llama-bench llama-batched-bench llama-quantize; do
  [[ -x $bin/$t ]] || { echo "error: $bin/$t missing: build llama.cpp first (see this script's header)" >&2; exit 2; }
done
python=${PYTHON:-/usr/bin/python3}
threads=2

# shape -> make_gguf.py arguments and skipllm's random:llama spec (without dtype)
case "$shape" in
  a) gguf_args=(--layers 32 --hidden 1024 --intermediate 2816 --heads 16 --kv-heads 16 --vocab 32000 --context 2048)
     spec=random:llama,layers=32,hidden=1024,heads=16,kv_heads=16,intermediate=2816,vocab=32000,seed=1 ;;
  shipped|b) shape=shipped
     gguf_args=(--layers 12 --hidden 128 --intermediate 352 --heads 4 --kv-heads 4 --vocab 4096 --context 512)
     spec=random:llama,layers=12,hidden=128,heads=4,kv_heads=4,intermediate=352,vocab=4096,context=512,seed=1 ;;
  *) echo "error: --shape must be a or shipped, not $shape" >&2; exit 2 ;;
esac
# skipllm variants per llama.cpp format: "DTYPE:WEIGHTS ..." (model dtype= key, --weights value)
skipllm_variants() {
  case "$1" in F32) echo "f32:f32" ;; F16) echo "f16:f16 bf16:bf16" ;; Q8_0) echo "f32:q8_0" ;; Q4_0) echo "f32:q4_0" ;; esac
}

models=$work/$shape
results=${results:-$work/results-$shape}
mkdir -p "$models" "$results/raw"
: > "$results/commands.txt"; : > "$results/raw/loadavg.txt"
if [[ -n "${LLAMA_CPP_COMMIT:-}" ]]; then commit=$LLAMA_CPP_COMMIT
elif [[ -e $LLAMA_CPP/.git ]]; then commit=$(git -C "$LLAMA_CPP" rev-parse HEAD)
elif [[ -s $LLAMA_CPP/COMMIT ]]; then commit=$(cat "$LLAMA_CPP/COMMIT")
else commit=unknown; fi

# run OUT CMD...: appends the command to commands.txt, stdout to OUT, stderr to OUT.log; a failure
# stops the script, except a skipllm one (soft=1), which is reported and skipped
soft=0
run() {
  local out=$1 rc=0; shift
  local a line=""
  for a in "$@"; do  # shell-quote only what needs it
    if [[ $a =~ ^[A-Za-z0-9_./,=:+-]+$ ]]; then line+="$a "; else line+="$(printf '%q' "$a") "; fi
  done
  echo "${line% }" >> "$results/commands.txt"
  echo "+ $*" >&2
  "$@" > "$out" 2> "$out.log" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "error: exit $rc, see $out.log:" >&2; tail -5 "$out.log" >&2
    if [[ $soft -eq 0 ]]; then exit 1; fi
  fi
}

# 1. models: F32 from random weights, the other formats quantized from it (kept between runs)
if [[ ! -s $models/model-F32.gguf ]]; then
  run "$results/raw/make_gguf.out" env PYTHONPATH="$LLAMA_CPP/gguf-py" "$python" "$here/llamacpp/make_gguf.py" \
    "${gguf_args[@]}" --out "$models/model-F32.gguf.tmp"
  mv "$models/model-F32.gguf.tmp" "$models/model-F32.gguf"
fi
for f in ${formats//,/ }; do
  if [[ $f != F32 && ! -s $models/model-$f.gguf ]]; then
    run "$results/raw/quantize-$f.out" "$bin/llama-quantize" "$models/model-F32.gguf" "$models/model-$f.gguf" "$f" $threads
  fi
done

# 2. benchmarks, interleaved per format
for f in ${formats//,/ }; do
  m=$models/model-$f.gguf
  echo "$f $(date -u +%FT%TZ) $(cat /proc/loadavg)" >> "$results/raw/loadavg.txt"  # was the machine idle?
  run "$results/raw/$f-tg64.json" "$bin/llama-bench" -m "$m" -p 0 -n 64 -t $threads -r "$reps" -o json
  run "$results/raw/$f-pp128.json" "$bin/llama-bench" -m "$m" -p 128 -n 0 -t $threads -r "$reps" -o json
  run "$results/raw/$f-batched.jsonl" "$bin/llama-batched-bench" -m "$m" -c 2048 -b 2048 -ub 512 \
    -npp 128 -ntg 64 -npl 1,8 -t $threads --output-format jsonl
  if [[ -n "${SKIPLLM_JAR:-}" ]]; then
    for v in $(skipllm_variants "$f"); do
      dtype=${v%%:*} weights=${v##*:}
      soft=1 run "$results/skipllm-$weights.json" java --add-modules jdk.incubator.vector -jar "$SKIPLLM_JAR" bench \
        --model "$spec,dtype=$dtype" --weights "$weights" --strategies unified --speedups 2,5 \
        --batch-sizes 1,8 --prompt-tokens 128 --new-tokens 64 --repeats "$reps" --json
    done
  fi
done

# 3. one JSON with every llama.cpp number, the commit and the commands
"$python" - "$results" "$models" "$commit" "$shape" "$reps" "$formats" <<'EOF'
import json, os, sys, platform
results, models, commit, shape, reps, formats = sys.argv[1:]
raw = os.path.join(results, "raw")
cmds = open(os.path.join(results, "commands.txt")).read().splitlines()
def bench(path):  # llama-bench -o json: a list with one test
    t = json.load(open(path))[0]
    return {k: t.get(k) for k in ("avg_ts", "stddev_ts", "samples_ts", "n_prompt", "n_gen", "n_threads",
                                  "model_type", "model_size", "model_n_params", "cpu_info", "build_commit")}
out = {"llama_cpp_commit": commit, "shape": shape, "threads": 2, "repetitions": int(reps),
       "host": platform.node(), "formats": {}, "commands": cmds,
       "loadavg_before_each_format": open(os.path.join(raw, "loadavg.txt")).read().splitlines()}
for f in formats.split(","):
    rows = [json.loads(l) for l in open(os.path.join(raw, f"{f}-batched.jsonl")) if l.startswith("{")]
    b8 = [r for r in rows if r["pl"] == 8]
    tg, pp = bench(os.path.join(raw, f"{f}-tg64.json")), bench(os.path.join(raw, f"{f}-pp128.json"))
    out["formats"][f] = {
        "model": os.path.join(models, f"model-{f}.gguf"),
        "model_bytes": os.path.getsize(os.path.join(models, f"model-{f}.gguf")),
        "decode_b1_tokens_per_s": tg["avg_ts"], "prefill128_tokens_per_s": pp["avg_ts"],
        "decode_b8_tokens_per_s": b8[0]["speed_tg"] if b8 else None,
        "tg64": tg, "pp128": pp, "batched_bench": rows,
        "commands": [c for c in cmds if f"model-{f}.gguf" in c and "llama-quantize" not in c],
    }
json.dump(out, open(os.path.join(results, "llamacpp.json"), "w"), indent=1)
for f, r in out["formats"].items():
    print(f"{f:5s} decode b1 {r['decode_b1_tokens_per_s']:9.2f}  decode b8 {r['decode_b8_tokens_per_s'] or 0:9.2f}"
          f"  prefill128 {r['prefill128_tokens_per_s']:9.2f} tokens/s", file=sys.stderr)
EOF
echo "results in $results (table: python3 $here/llamacpp_table.py $results)" >&2
