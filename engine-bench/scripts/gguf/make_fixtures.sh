#!/usr/bin/env bash
# Makes the GGUF test fixtures (models/reference/gguf/) and llama.cpp's reference outputs for them, so
# that the test suite compares skipllm with llama.cpp without Python or llama.cpp (CI needs neither).
#
#   LLAMA_CPP=/work/llama.cpp [PYTHON=python3-with-numpy] bash engine-bench/scripts/gguf/make_fixtures.sh
#
# 1. make_fixtures.py (llama.cpp's gguf-py) writes small random-weight models in F32 and tokenizer-only
#    files (see its header).
# 2. llama-quantize makes llama-spm in F16, Q8_0 and Q4_0, qwen2-bpe in F16, llama-spm256 in Q4_K_M.
# 3. llama_ref.cpp, built here against $LLAMA_CPP's libllama, records for the prompts of prompts.txt
#    (8 lines): greedy (32 new tokens, with the top-2 logit gap of every step) on every F32/F16 file;
#    teacher-forced argmax on the quantized files, over the prompt and the F32 file's greedy tokens;
#    and the token ids of every line of verses.txt for every tokenizer. Into llamacpp/NAME.MODE.jsonl.
# 4. dump_dequantized.py: rows of quantized tensors as gguf-py decodes them (llamacpp/dequantized.json).
# Needs a llama.cpp tree built with `cmake -B build -DLLAMA_CURL=OFF && cmake --build build --target
# llama-quantize` (tested at c392e5094) and a python3 with numpy.
set -euo pipefail
: "${LLAMA_CPP:?set LLAMA_CPP to a built llama.cpp tree}"
PYTHON=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../../models/reference/gguf
work=${WORK:-/tmp/skipllm-gguf-fixtures}
mkdir -p "$work" "$out/llamacpp"
bin=$LLAMA_CPP/build/bin
PYTHONPATH=$LLAMA_CPP/gguf-py "$PYTHON" "$here/make_fixtures.py" "$work"
g++ -O2 -std=c++17 -I "$LLAMA_CPP/include" -I "$LLAMA_CPP/ggml/include" "$here/llama_ref.cpp" -L "$bin" -lllama \
  -Wl,-rpath,"$bin" -o "$work/llama_ref"
q() { "$bin/llama-quantize" "$work/$1-f32.gguf" "$work/$1-$3.gguf" "$2" 2 > "$work/quantize-$1-$3.log" 2>&1; }
q llama-spm F16 f16; q llama-spm Q8_0 q8_0; q llama-spm Q4_0 q4_0; q qwen2-bpe F16 f16; q llama-spm256 Q4_K_M q4_k_m
for f in llama-spm-f32 llama-spm-f16 llama-spm-q8_0 llama-spm-q4_0 qwen2-bpe-f16 llama-spm256-q4_k_m \
    bpe-default bpe-llama-bpe bpe-gpt-2; do
  cp "$work/$f.gguf" "$out/$f.gguf"
done
ref() { "$work/llama_ref" "$@" 2> "$work/llama_ref.log"; }
for f in llama-spm-f32 llama-spm-f16 qwen2-bpe-f16 llama-spm256-f32 qwen2-bpe-f32; do
  ref "$work/$f.gguf" greedy "$out/prompts.txt" 32 > "$out/llamacpp/$f.greedy.jsonl"
done
# teacher-forced sequences: prompt + the F32 file's greedy tokens
forced_ids() {
  "$PYTHON" -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l); print(",".join(map(str, r["prompt_ids"] + r["tokens"])))' "$1"
}
forced_ids "$out/llamacpp/llama-spm-f32.greedy.jsonl" > "$work/llama-spm.forced.txt"
forced_ids "$out/llamacpp/llama-spm256-f32.greedy.jsonl" > "$work/llama-spm256.forced.txt"
cp "$work/llama-spm.forced.txt" "$out/llamacpp/llama-spm.forced-input.txt"
cp "$work/llama-spm256.forced.txt" "$out/llamacpp/llama-spm256.forced-input.txt"
for f in llama-spm-q8_0 llama-spm-q4_0 llama-spm-f32; do
  ref "$work/$f.gguf" forced "$work/llama-spm.forced.txt" > "$out/llamacpp/$f.forced.jsonl"
done
for f in llama-spm256-q4_k_m llama-spm256-f32; do
  ref "$work/$f.gguf" forced "$work/llama-spm256.forced.txt" > "$out/llamacpp/$f.forced.jsonl"
done
for f in llama-spm-f32 qwen2-bpe-f16 bpe-default bpe-llama-bpe bpe-gpt-2; do
  ref "$work/$f.gguf" tokenize "$out/verses.txt" > "$out/llamacpp/$f.tokenize.jsonl"
done
# the same through llama.cpp's own llama-tokenize, when built, as a check of llama_ref's tokenize mode
if [[ -x $bin/llama-tokenize ]]; then
  for f in llama-spm-f32 qwen2-bpe-f16 bpe-default bpe-llama-bpe bpe-gpt-2; do
    while IFS= read -r line; do
      "$bin/llama-tokenize" -m "$work/$f.gguf" -p "$line" --ids --log-disable 2>/dev/null | tail -1
    done < "$out/verses.txt" > "$work/$f.llama-tokenize.txt"
    "$PYTHON" -c 'import json,sys
a = [json.loads(l)["ids"] for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(0 if a == b else "llama-tokenize disagrees with llama_ref on " + sys.argv[2])' \
      "$out/llamacpp/$f.tokenize.jsonl" "$work/$f.llama-tokenize.txt"
  done
  echo "llama-tokenize agrees with llama_ref on every verse"
fi
# the values of quantized tensors as gguf-py dequantizes them
PYTHONPATH=$LLAMA_CPP/gguf-py "$PYTHON" "$here/dump_dequantized.py" "$out/llamacpp/dequantized.json" \
  "$work/llama-spm-q8_0.gguf:token_embd.weight,blk.0.ffn_down.weight" \
  "$work/llama-spm-q4_0.gguf:token_embd.weight,blk.1.ffn_up.weight" \
  "$work/llama-spm256-q4_k_m.gguf:token_embd.weight,blk.0.ffn_down.weight,blk.1.ffn_gate.weight,output.weight"
ls -la "$out" "$out/llamacpp"
