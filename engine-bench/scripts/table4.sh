#!/usr/bin/env bash
# Reproduces docs/benchmarks.md: the paper's Table 4 layout on this machine, for both random models and
# both workloads, then the plot. Needs `mvn -q -DskipTests package` first and Debian's python3-matplotlib.
# Usage: bash engine-bench/scripts/table4.sh OUT_DIR   (about 25 minutes on 2 idle cores; set
# PYTHON=/usr/bin/python3 when another python3 without matplotlib comes first on the PATH)
set -euo pipefail
out=${1:?usage: table4.sh OUT_DIR}
mkdir -p "$out"
jar=engine-core/target/skipllm.jar
llama=random:llama,layers=32,hidden=1024,heads=16,kv_heads=16,intermediate=2816,vocab=32000,seed=1
bloom=random:bloom,layers=30,hidden=1024,heads=16,vocab=32000,seed=1
common=(--strategies unified,skipdecode,early-exit --speedups 2,5 --batch-sizes 1,2,8 --json)
# fixed length: every approach generates the same 32 tokens after a 32-token prompt
# translation-like: prompts of 52 tokens, responses stopping at the 8 sixteenth-quantiles of the
# shipped translation test set's reference lengths (models/translation/data/test.jsonl, mean 33.4
# tokens), within the 96-token budget the quality evaluation used
lengths=17,23,27,30,34,38,44,54
for model in llama bloom; do
  spec=${!model}
  java -jar "$jar" bench --model "$spec" "${common[@]}" --repeats 3 > "$out/$model-fixed.json"
  java -jar "$jar" bench --model "$spec" "${common[@]}" --repeats 2 --prompt-tokens 52 --new-tokens 96 \
    --response-lengths "$lengths" > "$out/$model-stop-early.json"
done
${PYTHON:-python3} engine-bench/scripts/plot_table4.py "$out/benchmarks.png" "$out"/llama-stop-early.json "$out"/llama-fixed.json \
  "$out"/bloom-stop-early.json "$out"/bloom-fixed.json
