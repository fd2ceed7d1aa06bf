#!/usr/bin/env python3
"""Trains the shipped Spanish -> English verse model: a small LLaMA, from scratch, on 2 CPU cores.

Needs Debian's PyTorch with OpenBLAS:  apt-get install python3-torch python3-regex libopenblas0-pthread
Run with Debian's interpreter (/usr/bin/python3), from the repository root:

  /usr/bin/python3 models/translation/prepare_data.py           # data/train.jsonl (+ dev, test)
  /usr/bin/python3 models/translation/train.py all              # every stage below, resumable

Stages (each resumes from its last checkpoint in models/translation/work/, which git ignores):
  tokenizer  byte-level BPE, 4096 tokens, trained on the training split (bpe.py)
  pretrain   the model from scratch, next-token loss on prompt and response, all layers
  ft-full    standard fine-tuning from `pretrain`: loss on response tokens only, all layers
  ft-2x      skip-aware fine-tuning from `pretrain` for unified 2x (paper section 3.4): prompt
  ft-3x      tokens run every layer, response tokens only the retained layers (skipped layers are
             the identity for them), loss on response tokens
  export     Hugging Face layout (config.json, model.safetensors in BF16, tokenizer.json,
             generation_config.json) into models/translation/{base,unified-2x,unified-3x}

The three fine-tuned variants start from the same pretrained weights and get the same number of
steps, data order and learning rate, so they differ only in what the paper varies.
"""
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402

DATA = os.path.join(HERE, "data")
WORK = os.path.join(HERE, "work")
TEMPLATE = "Translate Spanish to English: {source} English:"
SEED = 1234
THREADS = int(os.environ.get("TRAIN_THREADS", "2"))

CONFIG = dict(  # LLaMA architecture; key names as in Hugging Face's LlamaConfig
    vocab_size=4096, hidden_size=128, intermediate_size=352, num_hidden_layers=12,
    num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
    rms_norm_eps=1e-5, rope_theta=10000.0)

# Stage hyper-parameters. Batches are built from length-sorted buckets of at most TOKENS_PER_BATCH
# padded tokens. Step counts were fixed from the measured speed of this machine (model card).
TOKENS_PER_BATCH = 4096
PRETRAIN = dict(steps=int(os.environ.get("PRETRAIN_STEPS", "800")), lr=3e-3, warmup=50,
                loss="all", retained=None,
                # The shipped run stopped at step 650 of its 800-step cosine schedule when the
                # session's time ran out (the schedule's lr at 650 is ~0.6x of peak); this stops at
                # the same place so a rerun reproduces the shipped weights' recipe exactly.
                stop_at=int(os.environ.get("PRETRAIN_STOP_AT", "650")))
FINETUNE_STEPS = int(os.environ.get("FINETUNE_STEPS", "60"))
FINETUNES = {
    "ft-full": dict(retained=None, out="base"),
    "ft-2x": dict(retained=2.0, out="unified-2x"),
    "ft-3x": dict(retained=3.0, out="unified-3x"),
}
FINETUNE_LR = 5e-4


# ---------------------------------------------------------------- planner (paper Algorithm 1)

def unified_retained(n_layers, speedup):
    """The retained layers of unified skipping; the engine's LayerSkipPlanner is the reference
    (checked against the paper's Table 2); this mirrors it for N=12."""
    import subprocess
    jar = os.path.join(HERE, "..", "..", "engine-core", "target", "skipllm.jar")
    if os.path.exists(jar):
        out = subprocess.run(["java", "-jar", jar, "plan", "--layers", str(n_layers), "--speedup",
                              str(speedup)], capture_output=True, text=True, check=True).stdout
        return json.loads(out)["retained"]
    raise SystemExit("build the engine first (mvn -q -DskipTests package): its planner decides "
                     "the retained layers")


# ---------------------------------------------------------------- model (mirrors HF LlamaForCausalLM)

class RMSNorm(torch.nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Layer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        h, self.heads, self.kv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = h // self.heads
        self.q_proj = torch.nn.Linear(h, self.heads * self.hd, bias=False)
        self.k_proj = torch.nn.Linear(h, self.kv * self.hd, bias=False)
        self.v_proj = torch.nn.Linear(h, self.kv * self.hd, bias=False)
        self.o_proj = torch.nn.Linear(self.heads * self.hd, h, bias=False)
        i = c["intermediate_size"]
        self.gate_proj = torch.nn.Linear(h, i, bias=False)
        self.up_proj = torch.nn.Linear(h, i, bias=False)
        self.down_proj = torch.nn.Linear(i, h, bias=False)
        self.input_layernorm = RMSNorm(h, c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(h, c["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        y = self.input_layernorm(x)
        q = self.q_proj(y).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(y).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(y).view(b, t, self.kv, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if self.kv != self.heads:
            k = k.repeat_interleave(self.heads // self.kv, dim=1)
            v = v.repeat_interleave(self.heads // self.kv, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        x = x + self.o_proj(y)
        y = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y))


def rope(x, cos, sin):  # HF's rotate_half convention (first half / second half of each head)
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = torch.nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = torch.nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.lm_head = torch.nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)
        for layer in self.layers:  # GPT-2 style: residual projections scaled by depth
            for p in (layer.o_proj.weight, layer.down_proj.weight):
                torch.nn.init.normal_(p, std=0.02 / math.sqrt(2 * c["num_hidden_layers"]))

    def forward(self, ids, is_response, retained=None):
        """ids [B,T] right-padded; is_response [B,T] bool. With `retained`, response positions
        skip the other layers (identity), prompt positions run all: the engine's skip semantics.
        Causal attention means a skipped layer's prompt outputs never see response tokens."""
        b, t = ids.shape
        hd = self.c["hidden_size"] // self.c["num_attention_heads"]
        inv = 1.0 / (self.c["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.arange(t).float()[:, None] * inv[None, :]
        ang = torch.cat((ang, ang), dim=-1)
        cos, sin = ang.cos()[None, None], ang.sin()[None, None]
        mask = torch.full((t, t), float("-inf")).triu(1)[None, None]
        x = self.embed_tokens(ids)
        keep = is_response.unsqueeze(-1)
        for i, layer in enumerate(self.layers):
            out = layer(x, cos, sin, mask)
            x = out if retained is None or i in retained else torch.where(keep, x, out)
        return self.lm_head(self.norm(x))


# ---------------------------------------------------------------- data

def load_pairs(split):
    with open(os.path.join(DATA, split + ".jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def encode_pairs(pairs, enc):
    out = []
    for p in pairs:
        prompt = enc.encode(TEMPLATE.format(source=p["es"]), bos=True)
        response = enc.encode(" " + p["en"]) + [bpe.EOS_ID]
        out.append((prompt, response))
    return out


def batches(examples, rng):
    """Length-bucketed batches of at most TOKENS_PER_BATCH padded tokens, in random order."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]) + len(examples[i][1]),
                                                        rng.random()))
    out, cur, cur_max = [], [], 0
    for i in order:
        n = len(examples[i][0]) + len(examples[i][1])
        if cur and max(cur_max, n) * (len(cur) + 1) > TOKENS_PER_BATCH:
            out.append(cur)
            cur, cur_max = [], 0
        cur.append(i)
        cur_max = max(cur_max, n)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def collate(examples, idx, loss_on):
    t = max(len(examples[i][0]) + len(examples[i][1]) for i in idx)
    ids = torch.zeros(len(idx), t, dtype=torch.long)
    is_resp = torch.zeros(len(idx), t, dtype=torch.bool)
    targets = torch.full((len(idx), t), -100, dtype=torch.long)
    for r, i in enumerate(idx):
        p, q = examples[i]
        seq = p + q
        ids[r, :len(seq)] = torch.tensor(seq)
        is_resp[r, len(p):len(seq)] = True
        tgt = torch.tensor(seq[1:])
        if loss_on == "response":  # predict response tokens only: from the last prompt position on
            tgt[:len(p) - 1] = -100
        targets[r, :len(seq) - 1] = tgt
    return ids, is_resp, targets


# ---------------------------------------------------------------- training

def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def evaluate(model, examples, retained):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for k in range(0, len(examples), 16):
            idx = list(range(k, min(k + 16, len(examples))))
            ids, is_resp, tgt = collate(examples, idx, "response")
            logits = model(ids, is_resp, retained)
            total += F.cross_entropy(logits.view(-1, logits.shape[-1]), tgt.view(-1),
                                     ignore_index=-100, reduction="sum").item()
            count += (tgt != -100).sum().item()
    model.train()
    return total / count


def run_stage(name, model, train_ex, dev_ex, steps, peak_lr, warmup, loss_on, retained, log,
              stop_at=None):
    last = steps if stop_at is None else min(steps, stop_at)
    ckpt = os.path.join(WORK, name + ".pt")
    opt = torch.optim.AdamW(model.parameters(), lr=peak_lr, betas=(0.9, 0.95), weight_decay=0.1)
    state = {"step": 0, "elapsed": 0.0, "epoch": 0, "pos": 0}
    if os.path.exists(ckpt):
        saved = torch.load(ckpt)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        if state["step"] >= last:
            return state
        log(f"{name}: resuming at step {state['step']}")
    rng = random.Random(SEED + state["epoch"])
    plan = batches(train_ex, rng)
    started = time.time() - state["elapsed"]
    model.train()
    while state["step"] < last:
        if state["pos"] >= len(plan):
            state["epoch"] += 1
            state["pos"] = 0
            plan = batches(train_ex, random.Random(SEED + state["epoch"]))
        ids, is_resp, tgt = collate(train_ex, plan[state["pos"]], loss_on)
        state["pos"] += 1
        for g in opt.param_groups:
            g["lr"] = lr_at(state["step"], steps, peak_lr, warmup)
        logits = model(ids, is_resp, retained)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), tgt.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["elapsed"] = time.time() - started
        if state["step"] % 50 == 0 or state["step"] == last:
            dev = evaluate(model, dev_ex, retained)
            log(f"{name}: step {state['step']}/{steps} epoch {state['epoch']} loss {loss.item():.3f} "
                f"dev_response_loss {dev:.3f} elapsed {state['elapsed']:.0f}s")
            state["dev_loss"] = dev
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state},
                       ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
    return state


def hf_name(key):
    """Our module names -> Hugging Face LlamaForCausalLM checkpoint keys."""
    if key.startswith("lm_head"):
        return key
    for proj, block in (("q_proj", "self_attn"), ("k_proj", "self_attn"), ("v_proj", "self_attn"),
                        ("o_proj", "self_attn"), ("gate_proj", "mlp"), ("up_proj", "mlp"),
                        ("down_proj", "mlp")):
        key = key.replace("." + proj + ".", "." + block + "." + proj + ".")
    return "model." + key


def export(model, out_dir, tokenizer_path, card):
    from safetensors_writer import write_safetensors
    os.makedirs(out_dir, exist_ok=True)
    c = dict(CONFIG)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
              "bos_token_id": bpe.BOS_ID, "eos_token_id": bpe.EOS_ID, "pad_token_id": bpe.PAD_ID,
              "tie_word_embeddings": False, "torch_dtype": "bfloat16", "attention_bias": False,
              "rope_scaling": None, **c}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": bpe.BOS_ID, "eos_token_id": bpe.EOS_ID,
                   "pad_token_id": bpe.PAD_ID, "max_new_tokens": 160, "do_sample": False}, f,
                  indent=2)
    tensors = {hf_name(k): v.detach().to(torch.bfloat16) for k, v in model.state_dict().items()}
    write_safetensors(tensors, os.path.join(out_dir, "model.safetensors"),
                      {"format": "pt", "skipllm_stage": card})
    with open(tokenizer_path, encoding="utf-8") as f:
        tok = f.read()
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tok)


def write_token_fixture(enc, pairs):
    """Prompt and response ids of the dev split as this recipe encodes them: the engine's test
    (TranslationTokenizerTest) checks that DJL's tokenizer gives the same ids from tokenizer.json."""
    with open(os.path.join(DATA, "dev-token-ids.jsonl"), "w", encoding="utf-8") as f:
        for p in pairs:
            prompt = TEMPLATE.format(source=p["es"])
            f.write(json.dumps({"id": p["id"], "prompt": prompt, "prompt_ids": enc.encode(prompt, bos=True),
                                "response": " " + p["en"], "response_ids": enc.encode(" " + p["en"])},
                               ensure_ascii=False) + "\n")


def main():
    stage = sys.argv[1] if len(sys.argv) > 1 else "all"
    torch.set_num_threads(THREADS)
    torch.manual_seed(SEED)
    os.makedirs(WORK, exist_ok=True)
    logf = open(os.path.join(WORK, "train.log"), "a")

    def log(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    tok_path = os.path.join(WORK, "tokenizer.json")
    if not os.path.exists(tok_path):
        t0 = time.time()
        texts = [t for p in load_pairs("train") for t in (p["es"], " " + p["en"])]
        vocab, merges = bpe.train(texts, CONFIG["vocab_size"])
        with open(tok_path, "w", encoding="utf-8") as f:
            json.dump(bpe.tokenizer_json(vocab, merges), f, ensure_ascii=False, indent=1)
        log(f"tokenizer: {len(vocab)} tokens, {len(merges)} merges, {time.time() - t0:.0f}s")
    with open(tok_path, encoding="utf-8") as f:
        m = json.load(f)["model"]
    enc = bpe.Encoder(m["vocab"], [tuple(x.split(" ")) for x in m["merges"]])
    train_ex = encode_pairs(load_pairs("train"), enc)
    dev_ex = encode_pairs(load_pairs("dev"), enc)
    if stage in ("all", "tokenizer", "export"):
        write_token_fixture(enc, load_pairs("dev"))
    if stage == "tokenizer":
        return

    if stage == "bench":  # seconds per step at this size, to fix the step counts
        model = Llama(CONFIG)
        log(f"params {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M")
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        plan = batches(train_ex, random.Random(SEED))
        t0 = time.time()
        for k in range(10):
            ids, is_resp, tgt = collate(train_ex, plan[k], "all")
            loss = F.cross_entropy(model(ids, is_resp).flatten(0, 1), tgt.flatten(),
                                   ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
        log(f"bench: {(time.time() - t0) / 10:.2f}s/step, {len(plan)} batches per epoch")
        return

    n = CONFIG["num_hidden_layers"]
    plans = {r: unified_retained(n, r) for r in (2.0, 3.0)}  # ask the planner before training
    log(f"unified plans for {n} layers: {plans}")
    if stage in ("all", "pretrain"):
        model = Llama(CONFIG)
        p = PRETRAIN
        run_stage("pretrain", model, train_ex, dev_ex, p["steps"], p["lr"], p["warmup"], "all",
                  None, log, stop_at=p["stop_at"])
    for name, ft in FINETUNES.items():
        if stage not in ("all", "finetune", name):
            continue
        model = Llama(CONFIG)
        model.load_state_dict(torch.load(os.path.join(WORK, "pretrain.pt"))["model"])
        retained = None if ft["retained"] is None else set(plans[ft["retained"]])
        torch.manual_seed(SEED)
        st = run_stage(name, model, train_ex, dev_ex, FINETUNE_STEPS, FINETUNE_LR, 20, "response",
                       retained, log)
        log(f"{name}: done, dev response loss {st.get('dev_loss', float('nan')):.3f} "
            f"(retained {sorted(retained) if retained else 'all'}), {st['elapsed']:.0f}s")
    if stage in ("all", "export"):
        for name, ft in FINETUNES.items():
            model = Llama(CONFIG)
            model.load_state_dict(torch.load(os.path.join(WORK, name + ".pt"))["model"])
            export(model, os.path.join(HERE, ft["out"]), tok_path, name)
            log(f"export: {name} -> models/translation/{ft['out']}")


if __name__ == "__main__":
    main()
