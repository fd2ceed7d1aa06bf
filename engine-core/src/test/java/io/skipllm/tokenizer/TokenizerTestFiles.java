package io.skipllm.tokenizer;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/**
 * The tokenizer.json files under {@code src/test/resources/tokenizer}, in Hugging Face tokenizers
 * format, written once with a throwaway script (no {@code tokenizers} package involved); edit them
 * by hand.
 *
 * <ul>
 *   <li>{@code byte-bpe.json}: GPT-2 style byte-level BPE. Ids 0..255 are the 256 byte symbols
 *       (GPT-2 bytes_to_unicode order, so id == byte value), then 14 merges (ids 256..269: "Ġt",
 *       "he", "Ġthe", "ll", "or", "Ġw", "Ġwor", "Ġworl", "Ġworld", "He", "Hell", "Hello", "Ġe",
 *       "Ã±" = 'ñ'), then added special tokens {@code <s>} = 270 and {@code </s>} = 271. A
 *       TemplateProcessing post-processor puts {@code <s>} in front.
 *   <li>{@code word-level.json}: WordLevel, Lowercase normalizer, Whitespace pre-tokenizer,
 *       {@code [UNK]}=0, {@code [CLS]}=1, {@code [SEP]}=2 (special), hello=3 world=4 the=5 cat=6
 *       sat=7 on=8 mat=9 .=10; post-processor {@code [CLS] $A [SEP]}; no decoder.
 * </ul>
 */
final class TokenizerTestFiles {
    static final int BOS = 270;
    static final int EOS = 271;
    static final int BYTE_BPE_VOCAB = 272;

    private TokenizerTestFiles() {}

    static Path byteBpe() {
        return resource("tokenizer/byte-bpe.json");
    }

    static Path wordLevel() {
        return resource("tokenizer/word-level.json");
    }

    private static Path resource(String name) {
        URL url = TokenizerTestFiles.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalStateException("missing test resource " + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
