package io.skipllm.eval;

/**
 * One evaluation pair.
 *
 * @param id where it comes from (e.g. {@code "Mark 1:1"})
 * @param source the text to translate (the data file's {@code es})
 * @param reference the reference translation (the data file's {@code en})
 */
public record TranslationExample(String id, String source, String reference) {
}
