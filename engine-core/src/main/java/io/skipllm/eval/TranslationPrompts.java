package io.skipllm.eval;

import io.skipllm.BadInputException;
import io.skipllm.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Turns a translation pair into what the model sees and what it should answer, as the translation
 * model was trained ({@code models/translation/train.py}): the prompt is the template with
 * {@code {source}} replaced by the source text, encoded with the tokenizer's special tokens (a BOS);
 * the response is {@code " " + reference} encoded without special tokens, followed by the EOS id.
 */
public final class TranslationPrompts {

    public static final String DEFAULT_TEMPLATE = "Translate Spanish to English: {source} English:";
    public static final String PLACEHOLDER = "{source}";

    private final String template;
    private final Tokenizer tokenizer;
    private final int eosId;

    public TranslationPrompts(String template, Tokenizer tokenizer, int eosId) {
        this.template = requireTemplate(template);
        this.tokenizer = tokenizer;
        this.eosId = eosId;
    }

    /** Checks a template before anything is loaded: it must contain {@code {source}}. */
    public static String requireTemplate(String template) {
        if (template == null || !template.contains(PLACEHOLDER)) {
            throw new BadInputException("--template must contain " + PLACEHOLDER + ", got '" + template + "'");
        }
        return template;
    }

    public String promptText(TranslationExample example) {
        return template.replace(PLACEHOLDER, example.source());
    }

    public EncodedExample encode(TranslationExample example) {
        int[] prompt = tokenizer.encode(promptText(example));
        int[] text = tokenizer.encodeWithoutSpecialTokens(" " + example.reference());
        int[] response = Arrays.copyOf(text, text.length + 1);
        response[text.length] = eosId;
        return new EncodedExample(prompt, response);
    }
}
