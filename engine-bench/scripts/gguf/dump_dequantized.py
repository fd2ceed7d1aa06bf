#!/usr/bin/env python3
"""Dequantized rows of GGUF tensors, by llama.cpp's gguf-py (gguf.quants.dequantize), as JSON: the
reference skipllm's decoders of Q8_0, Q4_0, Q4_K and Q6_K are tested against (GgufDecodingTest).

    PYTHONPATH=$LLAMA_CPP/gguf-py python3 dump_dequantized.py OUT.json FILE.gguf[:tensor,tensor...] ...
Writes {file name: {tensor: {"type": T, "rows": [row 0, row 1]}}}.
"""
import json
import os
import sys
import types

for missing in ("sentencepiece", "yaml"):
    try:
        __import__(missing)
    except ImportError:
        stub = types.ModuleType(missing)
        stub.SentencePieceProcessor = None
        sys.modules[missing] = stub
import gguf  # noqa: E402

out = {}
for arg in sys.argv[2:]:
    path, names = arg.split(":")
    reader = gguf.GGUFReader(path)
    entry = out.setdefault(os.path.basename(path), {})
    for t in reader.tensors:
        if t.name in names.split(","):
            values = gguf.quants.dequantize(t.data, t.tensor_type)
            entry[t.name] = {"type": t.tensor_type.name, "rows": [values[0].tolist(), values[1].tolist()]}
json.dump(out, open(sys.argv[1], "w"))
