package io.skipllm.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.BadInputException;
import io.skipllm.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer, backed by DJL's {@link HuggingFaceTokenizer}
 * (the Rust {@code tokenizers} library through JNI).
 *
 * <p>Behaviour matches Hugging Face {@code tokenizer(text)} / {@code tokenizer.decode(ids,
 * skip_special_tokens=True)}:
 *
 * <ul>
 *   <li>{@link #encode} adds special tokens exactly as the file's post-processor says (a BOS for
 *       LLaMA-style files, nothing for GPT-2-style files); {@link #encodeWithoutSpecialTokens} adds
 *       none. Special tokens written literally in the text (e.g. {@code "<s>"}) are recognised in
 *       both, as in Hugging Face.
 *   <li>Nothing is ever truncated or padded: DJL's own defaults (truncate to 512 tokens, pad to the
 *       longest) and any {@code truncation}/{@code padding} section of the file are switched off
 *       explicitly when loading.
 *   <li>Only {@code tokenizer.json} is read, not {@code tokenizer_config.json}: no
 *       {@code clean_up_tokenization_spaces} post-pass, no forced prefix space, no lower-casing
 *       beyond what the file's own normalizer does.
 * </ul>
 *
 * <h2>Offline use</h2>
 *
 * DJL never needs the network here, but only because of the {@code ai.djl.offline} property this
 * class sets (see {@link #preferOfflineDjl()}).
 *
 * <h2>Thread safety</h2>
 *
 * Instances are safe to share between threads: every call into the native tokenizer is serialised
 * on one lock per instance. The Rust {@code Tokenizer} itself is {@code Sync} and its
 * encode/decode take {@code &self}, but DJL's JNI glue hands each call a {@code &'static mut} to
 * the same object (formally aliasing, so not something to rely on) and {@link #close()} frees the
 * native object, which must never race with a call in flight. Tokenizing is negligible next to a
 * forward pass, so the lock costs nothing that matters.
 */
public final class Tokenizer implements AutoCloseable {

    /** File name of a Hugging Face fast tokenizer next to the weights. */
    public static final String FILE_NAME = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        preferOfflineDjl();
    }

    private final Object lock = new Object();
    private final Path source;
    private final HuggingFaceTokenizer delegate;
    private final Map<String, Integer> tokenIds;
    private final int vocabSize;
    private boolean closed;

    private Tokenizer(
            Path source,
            HuggingFaceTokenizer delegate,
            Map<String, Integer> tokenIds,
            int vocabSize) {
        this.source = source;
        this.delegate = delegate;
        this.tokenIds = tokenIds;
        this.vocabSize = vocabSize;
    }

    /**
     * Makes DJL work without a network unless the user decided otherwise.
     *
     * <p>With {@code ai.djl.offline} unset, DJL would (1) on every tokenizer creation call
     * {@code Ec2Utils.callHome}, which probes the EC2 metadata endpoint (169.254.169.254) and may
     * send a telemetry request (it is skipped in offline mode or with {@code OPT_OUT_TRACKING});
     * and (2) when loading the JNI library on a machine with a CUDA GPU, pick a CUDA "flavor" of
     * {@code libtokenizers} that is not in the jar and download it from {@code publish.djl.ai},
     * failing without a network. In offline mode DJL forces the CPU flavor, which the tokenizers
     * jar ships for linux-x86_64/aarch64, macOS-aarch64 and Windows-x86_64, and only copies it
     * from the jar to its cache directory ({@code $DJL_CACHE_DIR}, else {@code ~/.djl.ai}, else
     * {@code java.io.tmpdir/.djl.ai} when the home directory is not writable; all local). The
     * tokenizer itself gains nothing from the CUDA flavor. {@code DJL_OFFLINE} (environment) or a
     * user-set {@code ai.djl.offline} take precedence, so the user keeps the last word.
     */
    private static void preferOfflineDjl() {
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    /**
     * Loads a Hugging Face {@code tokenizer.json}.
     *
     * @throws CheckpointException when the file is missing, unreadable or malformed, or the native
     *     tokenizers library cannot be loaded; the message names the file
     */
    public static Tokenizer load(Path tokenizerJson) {
        Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        Path path = tokenizerJson.toAbsolutePath();
        if (!Files.exists(path)) {
            throw new CheckpointException("tokenizer file not found: " + path);
        }
        if (!Files.isRegularFile(path)) {
            throw new CheckpointException("tokenizer file is not a regular file: " + path);
        }
        JsonNode root;
        try {
            root = JSON.readTree(path.toFile());
        } catch (JsonProcessingException e) {
            String where =
                    e.getLocation() == null
                            ? ""
                            : " at line "
                                    + e.getLocation().getLineNr()
                                    + ", column "
                                    + e.getLocation().getColumnNr();
            throw new CheckpointException(
                    "malformed tokenizer file " + path + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read tokenizer file " + path + ": " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(
                    "malformed tokenizer file " + path + ": top level is not a JSON object");
        }
        Map<String, Integer> ids = readTokenIds(root, path);
        int size = 0;
        for (int id : ids.values()) {
            size = Math.max(size, id + 1);
        }
        HuggingFaceTokenizer hf = createNative(path);
        return new Tokenizer(path, hf, ids, size);
    }

    /**
     * Loads {@code tokenizer.json} from a model directory (next to the weights).
     *
     * @return the tokenizer, or empty when the directory has no {@code tokenizer.json}
     * @throws CheckpointException when the file is there but cannot be loaded
     */
    public static Optional<Tokenizer> loadFromModelDir(Path modelDir) {
        Objects.requireNonNull(modelDir, "modelDir");
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        return Optional.of(load(file));
    }

    /**
     * A tokenizer from a {@code tokenizer.json} document held in memory (for example one built from a
     * GGUF file's metadata, {@link GgufTokenizer}); {@code source} names where it came from in messages.
     *
     * @throws CheckpointException when the document is malformed or the native library cannot load
     */
    public static Tokenizer fromJson(JsonNode root, Path source) {
        Objects.requireNonNull(root, "root");
        Path path = source.toAbsolutePath();
        if (!root.isObject()) {
            throw new CheckpointException("malformed tokenizer for " + path + ": top level is not a JSON object");
        }
        Map<String, Integer> ids = readTokenIds(root, path);
        int size = 0;
        for (int id : ids.values()) {
            size = Math.max(size, id + 1);
        }
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(
                    new java.io.ByteArrayInputStream(JSON.writeValueAsBytes(root)),
                    // the builder's options of createNative, by their names
                    Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false",
                            "withOverflowingTokens", "false"));
        } catch (IOException e) {
            throw new CheckpointException("cannot build the tokenizer of " + path + ": " + e, e);
        } catch (LinkageError e) {
            throw new CheckpointException("cannot build the tokenizer of " + path
                    + ": the native tokenizers library failed to load: " + e, e);
        } catch (RuntimeException e) {
            throw new CheckpointException("cannot build the tokenizer of " + path + ": " + describe(e), e);
        }
        return new Tokenizer(path, hf, ids, size);
    }

    private static HuggingFaceTokenizer createNative(Path path) {
        try {
            return HuggingFaceTokenizer.builder()
                    .optTokenizerPath(path)
                    // As HF tokenizer(text): special tokens as the post-processor specifies.
                    .optAddSpecialTokens(true)
                    // DJL defaults to LONGEST_FIRST truncation at 512 tokens and LONGEST padding;
                    // "false" maps to DO_NOT_TRUNCATE / DO_NOT_PAD, which call
                    // disableTruncation/disablePadding on the native tokenizer, also overriding
                    // any truncation/padding section in the file. optMaxLength is then unused.
                    .optTruncation(false)
                    .optPadding(false)
                    .optWithOverflowingTokens(false)
                    .build();
        } catch (IOException e) {
            throw new CheckpointException("cannot read tokenizer file " + path + ": " + e, e);
        } catch (LinkageError e) {
            // UnsatisfiedLinkError / ExceptionInInitializerError / NoClassDefFoundError
            throw new CheckpointException(
                    "cannot load tokenizer file "
                            + path
                            + ": the native tokenizers library failed to load: "
                            + e,
                    e);
        } catch (RuntimeException e) {
            // DJL's EngineException ("Failed to load Huggingface native library.") or the Rust
            // parser's error, thrown through JNI as a RuntimeException carrying serde's message.
            String what =
                    e.getClass().getName().startsWith("ai.djl.engine")
                            ? "the native tokenizers library failed to load: "
                            : "malformed tokenizer file: ";
            throw new CheckpointException(
                    "cannot load tokenizer file " + path + ": " + what + describe(e), e);
        }
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        Throwable c = e.getCause();
        for (int depth = 0; c != null && depth < 5; depth++, c = c.getCause()) {
            sb.append(" (caused by ").append(c).append(')');
        }
        return sb.toString();
    }

    /** Token string to id over {@code model.vocab} and {@code added_tokens}. */
    private static Map<String, Integer> readTokenIds(JsonNode root, Path path) {
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) {
            throw new CheckpointException(
                    "malformed tokenizer file " + path + ": no \"model\" object");
        }
        JsonNode vocab = model.get("vocab");
        Map<String, Integer> ids = new HashMap<>();
        if (vocab == null || vocab.isNull()) {
            throw new CheckpointException(
                    "malformed tokenizer file " + path + ": \"model\" has no \"vocab\"");
        } else if (vocab.isObject()) {
            // BPE, WordPiece, WordLevel: {"token": id, ...}
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                    throw new CheckpointException(
                            "malformed tokenizer file "
                                    + path
                                    + ": vocab entry \""
                                    + e.getKey()
                                    + "\" has id "
                                    + e.getValue());
                }
                ids.put(e.getKey(), e.getValue().asInt());
            }
        } else if (vocab.isArray()) {
            // Unigram: [["token", score], ...], the id is the position.
            for (int i = 0; i < vocab.size(); i++) {
                JsonNode entry = vocab.get(i);
                JsonNode token = entry.isArray() && entry.size() > 0 ? entry.get(0) : entry;
                if (!token.isTextual()) {
                    throw new CheckpointException(
                            "malformed tokenizer file " + path + ": vocab entry " + i + " is " + entry);
                }
                ids.putIfAbsent(token.asText(), i);
            }
        } else {
            throw new CheckpointException(
                    "malformed tokenizer file " + path + ": \"model.vocab\" is " + vocab.getNodeType());
        }
        JsonNode added = root.get("added_tokens");
        if (added != null && added.isArray()) {
            for (JsonNode t : added) {
                JsonNode id = t.get("id");
                JsonNode content = t.get("content");
                if (id == null || !id.canConvertToInt() || id.asInt() < 0 || content == null) {
                    throw new CheckpointException(
                            "malformed tokenizer file " + path + ": added token " + t);
                }
                // Added tokens take precedence over the model vocab, as in HF token_to_id.
                ids.put(content.asText(), id.asInt());
            }
        }
        return Map.copyOf(ids);
    }

    /** The file this tokenizer was loaded from (absolute). */
    public Path source() {
        return source;
    }

    /**
     * Encodes text with special tokens as the tokenizer specifies (HF {@code tokenizer(text)}, e.g.
     * a leading BOS for LLaMA). Never truncated.
     *
     * @throws BadInputException when the tokenizer cannot encode the text (e.g. a WordLevel model
     *     without an unknown token meeting an unknown word)
     */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /** Encodes text without adding any special tokens. Never truncated. */
    public int[] encodeWithoutSpecialTokens(String text) {
        return encode(text, false);
    }

    private int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        long[] ids;
        synchronized (lock) {
            checkOpen();
            try {
                ids = delegate.encode(text, addSpecialTokens, false).getIds();
            } catch (RuntimeException e) {
                throw new BadInputException(
                        "tokenizer " + source + " cannot encode the text: " + e.getMessage(), e);
            }
        }
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Decodes ids to text, leaving out special tokens (HF {@code decode(ids,
     * skip_special_tokens=True)}). Ids the tokenizer does not know ({@code >= vocabSize()}, e.g. a
     * padding row of the embedding) decode to nothing, as in Hugging Face. Bytes that do not form
     * complete UTF-8 characters decode to U+FFFD.
     *
     * @throws BadInputException on a negative id
     */
    public String decode(int[] ids) {
        return decodeLongs(toLongs(ids), true);
    }

    /** Decodes ids to text, special tokens included. See {@link #decode(int[])}. */
    public String decodeWithSpecialTokens(int[] ids) {
        return decodeLongs(toLongs(ids), false);
    }

    String decodeLongs(long[] ids, boolean skipSpecialTokens) {
        synchronized (lock) {
            checkOpen();
            try {
                return delegate.decode(ids, skipSpecialTokens);
            } catch (RuntimeException e) {
                throw new BadInputException(
                        "tokenizer " + source + " cannot decode the ids: " + e.getMessage(), e);
            }
        }
    }

    static long[] toLongs(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            checkId(ids[i]);
            out[i] = ids[i];
        }
        return out;
    }

    static void checkId(int id) {
        if (id < 0) {
            throw new BadInputException("negative token id: " + id);
        }
    }

    /**
     * One more than the highest token id this tokenizer knows ({@code model.vocab} plus {@code
     * added_tokens}), i.e. HF {@code len(tokenizer)} when ids have no gaps. DJL does not expose
     * the vocabulary size, so it is read from the file. The model's {@code vocab_size} may be
     * larger (padded embedding rows).
     */
    public int vocabSize() {
        return vocabSize;
    }

    /**
     * The id of a token, written as it appears in the vocabulary (for byte-level BPE that is the
     * byte-level form, e.g. {@code "Ġthe"}); added tokens ({@code "<s>"}, {@code "</s>"}, ...)
     * included. Like HF {@code token_to_id}.
     */
    public Optional<Integer> tokenId(String token) {
        Objects.requireNonNull(token, "token");
        return Optional.ofNullable(tokenIds.get(token));
    }

    /**
     * A decoder for generation that is fed one id at a time and returns the text each id
     * completes; special tokens are left out, as in {@link #decode(int[])}. One per generated
     * sequence; not thread safe.
     */
    public StreamingDecoder streamingDecoder() {
        return streamingDecoder(true);
    }

    /** As {@link #streamingDecoder()}, choosing whether special tokens are left out. */
    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return StreamingDecoder.over(ids -> decodeLongs(toLongs(ids), skipSpecialTokens));
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tokenizer " + source + " is closed");
        }
    }

    /** Frees the native tokenizer. Idempotent; other methods fail afterwards. */
    @Override
    public void close() {
        synchronized (lock) {
            if (!closed) {
                closed = true;
                delegate.close();
            }
        }
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", vocabSize=" + vocabSize + "]";
    }
}
