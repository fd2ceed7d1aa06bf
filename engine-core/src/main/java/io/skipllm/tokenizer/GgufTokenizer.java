package io.skipllm.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skipllm.checkpoint.CheckpointException;
import io.skipllm.checkpoint.GgufFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tokenizer a GGUF file carries in its {@code tokenizer.ggml.*} metadata, as the Hugging Face
 * {@code tokenizer.json} that encodes text the way llama.cpp does, run by the same native tokenizer as
 * every other model ({@link Tokenizer}).
 *
 * <ul>
 *   <li>{@code gpt2} (byte-level BPE): the vocabulary and merges as stored; the pre-tokenizer is the
 *       list of regular expressions llama.cpp applies for {@code tokenizer.ggml.pre}, each splitting the
 *       pieces of the one before (HF {@code Split} with {@code Isolated}), then the byte-level mapping.
 *       {@code llama-bpe} (LLaMA 3) also takes a whole word from the vocabulary before merging
 *       ({@code ignore_merges}), as llama.cpp does.</li>
 *   <li>{@code llama} (SentencePiece): llama.cpp merges the adjacent pair whose joined piece has the
 *       highest score, leftmost first. That is BPE with one merge for every way a piece splits into two
 *       pieces of the vocabulary, ranked by the joined piece's score (ties: lower id first); unknown
 *       characters fall back to the {@code <0xNN>} byte pieces. A space is {@code ▁}, and one is put in
 *       front of the text unless {@code tokenizer.ggml.add_space_prefix} is false.</li>
 * </ul>
 * Control tokens (type 3) are special added tokens, left out when decoding; a BOS is added when
 * {@code tokenizer.ggml.add_bos_token} says so (default: true for {@code llama} and {@code llama-bpe},
 * false otherwise, as in llama.cpp), an EOS when {@code add_eos_token} does.
 */
public final class GgufTokenizer {

    /** llama.cpp's token types ({@code tokenizer.ggml.token_type}). */
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private GgufTokenizer() {
    }

    /** The tokenizer of {@code file}, or empty when it has no {@code tokenizer.ggml.model}. */
    public static Optional<Tokenizer> of(GgufFile file) {
        return json(file).map(root -> Tokenizer.fromJson(root, file.path()));
    }

    /** The {@code tokenizer.json} document of {@code file}, or empty when it has no tokenizer. */
    static Optional<ObjectNode> json(GgufFile file) {
        Optional<String> model = file.string("tokenizer.ggml.model");
        if (model.isEmpty()) {
            return Optional.empty();
        }
        String[] tokens = file.strings("tokenizer.ggml.tokens")
                .orElseThrow(() -> file.error("tokenizer.ggml.tokens", "is missing; the tokenizer needs its vocabulary"));
        long[] types = file.integers("tokenizer.ggml.token_type").orElse(null);
        if (types != null && types.length != tokens.length) {
            throw file.error("tokenizer.ggml.token_type", "has " + types.length + " entries for " + tokens.length
                    + " tokens");
        }
        return Optional.of(switch (model.get()) {
            case "gpt2" -> gpt2(file, tokens, types);
            case "llama" -> sentencePiece(file, tokens, types);
            default -> throw file.error("tokenizer.ggml.model", "is '" + model.get()
                    + "'; skipllm reads the gpt2 (byte-level BPE) and llama (SentencePiece) tokenizers");
        });
    }

    private static ObjectNode gpt2(GgufFile file, String[] tokens, long[] types) {
        String pre = file.string("tokenizer.ggml.pre").orElse("default");
        List<String> regexes = switch (pre) {
            case "default" -> List.of(
                    "[\\p{P}\\$\\+<=>\\^~\\|]+",
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
                    "\\p{N}+",
                    "[0-9][0-9][0-9]");
            case "llama3", "llama-v3", "llama-bpe", "falcon3" -> List.of(
                    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
            case "qwen2", "deepseek-r1-qwen" -> List.of(
                    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
            case "gpt-2" -> List.of("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)");
            default -> throw file.error("tokenizer.ggml.pre", "is '" + pre
                    + "'; skipllm knows the pre-tokenizers default, llama-bpe (llama3), qwen2 and gpt-2");
        };
        boolean llama3 = regexes.get(0).contains("\\p{N}{1,3}");
        String[] merges = file.strings("tokenizer.ggml.merges")
                .orElseThrow(() -> file.error("tokenizer.ggml.merges", "is missing; a gpt2 tokenizer needs its merges"));
        ObjectNode root = base(file, tokens, types, llama3);
        ArrayNode pretokenizers = NODES.arrayNode();
        for (String regex : regexes) {
            ObjectNode split = NODES.objectNode().put("type", "Split");
            split.putObject("pattern").put("Regex", regex);
            split.put("behavior", "Isolated").put("invert", false);
            pretokenizers.add(split);
        }
        pretokenizers.add(byteLevel(false));
        root.putObject("pre_tokenizer").put("type", "Sequence").set("pretokenizers", pretokenizers);
        root.set("decoder", byteLevel(true));
        ObjectNode model = bpeModel(tokens, null, false, llama3);
        ArrayNode mergeList = model.putArray("merges");
        for (int i = 0; i < merges.length; i++) {
            if (merges[i].indexOf(' ') <= 0) {
                throw file.error("tokenizer.ggml.merges", "entry " + i + " is '" + merges[i]
                        + "'; a merge is two tokens separated by one space");
            }
            mergeList.add(merges[i]);
        }
        root.set("model", model);
        return root;
    }

    private static ObjectNode byteLevel(boolean decoder) {
        return NODES.objectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", decoder).put("use_regex", false);
    }

    private static ObjectNode sentencePiece(GgufFile file, String[] tokens, long[] types) {
        float[] scores = file.floats("tokenizer.ggml.scores")
                .orElseThrow(() -> file.error("tokenizer.ggml.scores", "is missing; a llama tokenizer needs its scores"));
        if (scores.length != tokens.length) {
            throw file.error("tokenizer.ggml.scores", "has " + scores.length + " entries for " + tokens.length + " tokens");
        }
        boolean spacePrefix = file.bool("tokenizer.ggml.add_space_prefix").orElse(true);
        ObjectNode root = base(file, tokens, types, true);
        ArrayNode normalizers = NODES.arrayNode();
        if (spacePrefix) {
            normalizers.add(NODES.objectNode().put("type", "Prepend").put("prepend", "\u2581"));
        }
        ObjectNode replace = NODES.objectNode().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", "\u2581");
        normalizers.add(replace);
        root.putObject("normalizer").put("type", "Sequence").set("normalizers", normalizers);
        root.putNull("pre_tokenizer");
        ArrayNode decoders = NODES.arrayNode();
        ObjectNode unreplace = NODES.objectNode().put("type", "Replace");
        unreplace.putObject("pattern").put("String", "\u2581");
        unreplace.put("content", " ");
        decoders.add(unreplace);
        decoders.add(NODES.objectNode().put("type", "ByteFallback"));
        decoders.add(NODES.objectNode().put("type", "Fuse"));
        if (spacePrefix) {
            decoders.add(NODES.objectNode().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0));
        }
        root.putObject("decoder").put("type", "Sequence").set("decoders", decoders);
        Integer unk = tokenId(file, "tokenizer.ggml.unknown_token_id", tokens.length);
        ObjectNode model = bpeModel(tokens, unk == null ? null : tokens[unk], true, false);
        ArrayNode mergeList = model.putArray("merges");
        for (String merge : mergesFromScores(tokens, scores)) {
            mergeList.add(merge);
        }
        root.set("model", model);
        return root;
    }

    /**
     * Every split of a piece into two pieces of the vocabulary, as a merge {@code "left right"}, ordered by
     * the score of the joined piece, highest first (ties: lower id first).
     */
    static List<String> mergesFromScores(String[] tokens, float[] scores) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            ids.putIfAbsent(tokens[i], i);
        }
        record Merge(String left, String right, float score, int id) {
        }
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < tokens.length; id++) {
            String t = tokens[id];
            if (ids.get(t) != id) {
                continue;
            }
            for (int k = t.isEmpty() ? 0 : t.offsetByCodePoints(0, 1); k > 0 && k < t.length();
                    k = t.offsetByCodePoints(k, 1)) {
                String left = t.substring(0, k);
                String right = t.substring(k);
                if (ids.containsKey(left) && ids.containsKey(right)) {
                    merges.add(new Merge(left, right, scores[id], id));
                }
            }
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> -m.score()).thenComparingInt(Merge::id));
        List<String> out = new ArrayList<>(merges.size());
        for (Merge m : merges) {
            out.add(m.left() + " " + m.right());
        }
        return out;
    }

    /** The parts both kinds share: added (control) tokens and the BOS/EOS post-processor. */
    private static ObjectNode base(GgufFile file, String[] tokens, long[] types, boolean addBosDefault) {
        ObjectNode root = NODES.objectNode().put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; types != null && i < tokens.length; i++) {
            if (types[i] == CONTROL || types[i] == USER_DEFINED) {
                added.addObject().put("id", i).put("content", tokens[i]).put("single_word", false)
                        .put("lstrip", false).put("rstrip", false).put("normalized", false)
                        .put("special", types[i] == CONTROL);
            }
        }
        root.putNull("normalizer");
        boolean addBos = file.bool("tokenizer.ggml.add_bos_token").orElse(addBosDefault);
        boolean addEos = file.bool("tokenizer.ggml.add_eos_token").orElse(false);
        Integer bos = tokenId(file, "tokenizer.ggml.bos_token_id", tokens.length);
        Integer eos = tokenId(file, "tokenizer.ggml.eos_token_id", tokens.length);
        ArrayNode single = NODES.arrayNode();
        ObjectNode specials = NODES.objectNode();
        if (addBos && bos != null) {
            special(single, specials, tokens[bos], bos);
        }
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        if (addEos && eos != null) {
            special(single, specials, tokens[eos], eos);
        }
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        post.set("single", single);
        ArrayNode pair = single.deepCopy();
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        post.set("pair", pair);
        post.set("special_tokens", specials);
        return root;
    }

    private static void special(ArrayNode template, ObjectNode specials, String token, int id) {
        template.addObject().putObject("SpecialToken").put("id", token).put("type_id", 0);
        ObjectNode entry = specials.putObject(token).put("id", token);
        entry.putArray("ids").add(id);
        entry.putArray("tokens").add(token);
    }

    private static ObjectNode bpeModel(String[] tokens, String unk, boolean byteFallback, boolean ignoreMerges) {
        ObjectNode model = NODES.objectNode().put("type", "BPE");
        model.putNull("dropout");
        if (unk == null) {
            model.putNull("unk_token");
        } else {
            model.put("unk_token", unk);
        }
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", byteFallback).put("byte_fallback", byteFallback).put("ignore_merges", ignoreMerges);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < tokens.length; i++) {
            if (!vocab.has(tokens[i])) {
                vocab.put(tokens[i], i);
            }
        }
        return model;
    }

    private static Integer tokenId(GgufFile file, String key, int vocab) {
        Optional<Long> id = file.integer(key);
        if (id.isEmpty()) {
            return null;
        }
        if (id.get() < 0 || id.get() >= vocab) {
            throw new CheckpointException(file.path() + ": metadata '" + key + "' is " + id.get()
                    + ", outside the vocabulary of " + vocab + " tokens");
        }
        return id.get().intValue();
    }
}
