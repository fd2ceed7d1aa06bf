// Reference outputs of llama.cpp for skipllm's GGUF tests (engine-bench/scripts/gguf/make_fixtures.sh
// builds it against a llama.cpp tree and links its libllama; nothing of llama.cpp is copied here).
//
//   llama_ref MODEL greedy PROMPTS_FILE N_NEW   one JSON line per prompt (one prompt text per line):
//       {"prompt_ids":[...],"tokens":[...],"gaps":[...]}: the prompt as llama.cpp tokenizes it (special
//       tokens added as the model says, none parsed from the text), N_NEW greedy tokens, and at each
//       step the gap between the two largest logits
//   llama_ref MODEL forced IDS_FILE              one JSON line per line of comma-separated ids:
//       {"argmax":[...]}: the argmax of the logits at every position, all ids fed at once
//   llama_ref MODEL tokenize TEXT_FILE           one JSON line per line: {"ids":[...]}
#include "llama.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text) {
    std::vector<llama_token> ids(text.size() + 8);
    int n = llama_tokenize(vocab, text.c_str(), (int) text.size(), ids.data(), (int) ids.size(), true, false);
    if (n < 0) {
        ids.resize(-n);
        n = llama_tokenize(vocab, text.c_str(), (int) text.size(), ids.data(), (int) ids.size(), true, false);
    }
    ids.resize(n);
    return ids;
}

static void print_ids(const char * key, const std::vector<llama_token> & ids) {
    printf("\"%s\":[", key);
    for (size_t i = 0; i < ids.size(); i++) printf(i ? ",%d" : "%d", ids[i]);
    printf("]");
}

static int argmax(const float * logits, int n, float * gap) {
    int best = 0;
    for (int i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
    float second = -1e30f;
    for (int i = 0; i < n; i++) if (i != best && logits[i] > second) second = logits[i];
    if (gap) *gap = logits[best] - second;
    return best;
}

// feeds ids at positions pos.., logits for every one of them
static void feed(llama_context * ctx, const std::vector<llama_token> & ids, int pos) {
    llama_batch batch = llama_batch_init((int) ids.size(), 0, 1);
    for (size_t i = 0; i < ids.size(); i++) {
        batch.token[i] = ids[i];
        batch.pos[i] = pos + (int) i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = (int) ids.size();
    if (llama_decode(ctx, batch) != 0) { fprintf(stderr, "llama_decode failed\n"); exit(1); }
    llama_batch_free(batch);
}

int main(int argc, char ** argv) {
    if (argc < 4) { fprintf(stderr, "usage: llama_ref MODEL greedy|forced|tokenize FILE [N_NEW]\n"); return 2; }
    std::string mode = argv[2];
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = mode == "tokenize"; // tokenizer-only files have no tensors
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    int n_vocab = llama_vocab_n_tokens(vocab);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512; cp.n_batch = 512; cp.n_ubatch = 512; cp.n_threads = 2; cp.n_threads_batch = 2;
    // a float32 KV cache (llama.cpp's default is F16), so that only the weights' format differs from skipllm
    cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32;
    llama_context * ctx = mp.vocab_only ? nullptr : llama_init_from_model(model, cp);
    std::ifstream in(argv[3]);
    std::string line;
    while (std::getline(in, line)) {
        if (mode == "tokenize") {
            printf("{"); print_ids("ids", tokenize(vocab, line)); printf("}\n");
            continue;
        }
        llama_kv_cache_clear(ctx);
        if (mode == "greedy") {
            int n_new = argc > 4 ? atoi(argv[4]) : 32;
            std::vector<llama_token> prompt = tokenize(vocab, line), out;
            std::vector<float> gaps;
            feed(ctx, prompt, 0);
            int pos = (int) prompt.size();
            float gap;
            int next = argmax(llama_get_logits_ith(ctx, -1), n_vocab, &gap);
            for (int i = 0; i < n_new; i++) {
                out.push_back(next); gaps.push_back(gap);
                if (i + 1 == n_new) break;
                feed(ctx, {next}, pos++);
                next = argmax(llama_get_logits_ith(ctx, -1), n_vocab, &gap);
            }
            printf("{"); print_ids("prompt_ids", prompt); printf(","); print_ids("tokens", out); printf(",\"gaps\":[");
            for (size_t i = 0; i < gaps.size(); i++) printf(i ? ",%.6g" : "%.6g", gaps[i]);
            printf("]}\n");
        } else {
            std::vector<llama_token> ids, best;
            std::stringstream ss(line);
            std::string item;
            while (std::getline(ss, item, ',')) ids.push_back(atoi(item.c_str()));
            feed(ctx, ids, 0);
            for (size_t i = 0; i < ids.size(); i++) best.push_back(argmax(llama_get_logits_ith(ctx, (int) i), n_vocab, nullptr));
            printf("{"); print_ids("argmax", best); printf("}\n");
        }
    }
    if (ctx) llama_free(ctx);
    llama_model_free(model);
    return 0;
}
