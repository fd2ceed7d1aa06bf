package io.skipllm.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.skipllm.BadInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The 13a rules on strings chosen to hit each one (expected token lists written by hand from
 * sacreBLEU's documented rules, see {@link Tokenizer13a}), and BLEU / chrF on cases small enough to
 * compute by hand, including the edge cases the NLTK comparison cannot cover.
 */
class MetricsTest {

    private static void assertTokens(String text, String... expected) {
        assertEquals(List.of(expected), Tokenizer13a.tokenize(text), text);
    }

    @Test
    void asciiSymbolsAreSplitOffButApostrophesHyphensAndNonAsciiAreNot() {
        assertTokens("Hello, world!", "Hello", ",", "world", "!");
        assertTokens("(1:5) x;y", "(", "1", ":", "5", ")", "x", ";", "y");
        assertTokens("$5+20%={x}|[y]^_~`z`@a#1/b\\c", "$", "5", "+", "20", "%", "=", "{", "x", "}", "|", "[", "y", "]",
                "^", "_", "~", "`", "z", "`", "@", "a", "#", "1", "/", "b", "\\", "c");
        assertTokens("don't LORD's well-known a--b", "don't", "LORD's", "well-known", "a--b");
        assertTokens("¿Qué pasó? ¶But «bien» “x”", "¿Qué", "pasó", "?", "¶But", "«bien»", "“x”");
    }

    @Test
    void periodsAndCommasStayInsideNumbersOnly() {
        assertTokens("It cost 3.50, 1,000 times.", "It", "cost", "3.50", ",", "1,000", "times", ".");
        assertTokens(".5 and 5. and e.g. x", ".", "5", "and", "5", ".", "and", "e", ".", "g", ".", "x");
        assertTokens("a,,b 1,,2", "a", ",", ",", "b", "1", ",", ",", "2");
    }

    @Test
    void aDashIsSplitAfterADigitOnly() {
        assertTokens("1990-2000 and 2-3 men came-", "1990", "-", "2000", "and", "2", "-", "3", "men", "came-");
        assertTokens("a-1 -5", "a-1", "-5");
    }

    @Test
    void entitiesSkippedMarkersAndLineBreaks() {
        assertTokens("&quot;Yes&quot; &amp; &lt;b&gt;", "\"", "Yes", "\"", "&", "<", "b", ">");
        assertTokens("line-\nbreak and\nnewline <skipped>done", "linebreak", "and", "newline", "done");
        assertTokens("end-\n", "end-");  // the segment is right-stripped before the "-\n" rule
    }

    @Test
    void whitespaceIsPythonsSplit() {
        assertTokens("a\u00a0b\tc\u3000d\u0085e  ", "a", "b", "c", "d", "e");
        assertTokens("a\u200bb", "a\u200bb");  // a zero-width space is not whitespace
        assertTokens("   ");
        assertTokens("");
    }

    @Test
    void bleuByHand() {
        Bleu.Score same = Bleu.corpus(List.of("the cat sat on the mat ."), List.of("the cat sat on the mat ."));
        assertEquals(100.0, same.score(), 1e-12);
        Bleu.Score shorter = Bleu.corpus(List.of("the cat sat on the"), List.of("the cat sat on the mat"));
        assertEquals(100.0 * Math.exp(1 - 6.0 / 5), shorter.score(), 1e-12, "all precisions 1, BP exp(1 - 6/5)");
        assertEquals(Math.exp(-0.2), shorter.brevityPenalty(), 1e-12);
        Bleu.Score clipped = Bleu.corpus(List.of("the the the the the the the"), List.of("the cat is on the mat"));
        assertEquals(100.0 * 2 / 7, clipped.precisions()[0], 1e-12, "'the' is clipped at its 2 reference counts");
        assertEquals(0.0, clipped.score(), "no bigram matches: 0 without smoothing");
    }

    @Test
    void bleuCountsNoHigherOrderNgramsForShortSegmentsAsSacrebleuDoes() {
        // NLTK would divide hypothesis 2's trigram and 4-gram matches by 1 instead of 0 and score below 100
        Bleu.Score s = Bleu.corpus(List.of("a b c d e", "x y"), List.of("a b c d e", "x y"));
        assertArrayEquals(new long[] {7, 5, 3, 2}, s.totals());
        assertEquals(100.0, s.score(), 1e-12);
        Bleu.Score empty = Bleu.corpus(List.of(""), List.of("a b c d"));
        assertEquals(0.0, empty.score());
        assertEquals(0.0, empty.brevityPenalty());
        assertEquals(0.0, Bleu.corpus(List.of(), List.of()).score());
        assertThrows(BadInputException.class, () -> Bleu.corpus(List.of("a"), List.of("a", "b")));
    }

    @Test
    void chrfByHand() {
        // orders 1..3 are effective: P = R = (2/3 + 1/2 + 0) / 3 = 7/18
        assertEquals(100.0 * 7 / 18, Chrf.corpus(List.of("abc"), List.of("abd")).score(), 1e-12);
        assertEquals(100.0, Chrf.corpus(List.of("a b\tc"), List.of("abc")).score(), 1e-12, "whitespace is removed");
        assertEquals(0.0, Chrf.corpus(List.of(""), List.of("abc")).score());
        // reference "ab" has no 3..6-grams, so the hypothesis' ones are not counted: P = 19/84, R = 1
        Chrf.Score shortRef = Chrf.corpus(List.of("abcdefg"), List.of("ab"));
        assertEquals(100.0 * 95 / 160, shortRef.score(), 1e-12);
        assertArrayEquals(new long[] {7, 6, 0, 0, 0, 0}, shortRef.hypothesisNgrams());
    }

    @Test
    void chrfSumsStatisticsOverTheCorpusBeforeAveraging() {
        // n=1: 2/6, n=2: 1/4, n=3: 0/2, n=4: 0/1 for both precision and recall: (7/12) / 4
        Chrf.Score s = Chrf.corpus(List.of("ab", "abcd"), List.of("ab", "wxyz"));
        assertEquals(100.0 * 7 / 48, s.score(), 1e-12);
        assertArrayEquals(new long[] {6, 4, 2, 1, 0, 0}, s.referenceNgrams());
    }
}
