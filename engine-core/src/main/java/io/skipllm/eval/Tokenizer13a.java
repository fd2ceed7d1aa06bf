package io.skipllm.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code 13a} tokenization of sacreBLEU (the default for BLEU), equivalent to WMT's
 * {@code mteval-v13a.pl}, re-implemented so that BLEU needs no Python. Applied to hypotheses and
 * references alike, in this order:
 *
 * <ol>
 *   <li>trailing whitespace is removed (sacreBLEU strips each segment on the right first);
 *   <li>{@code <skipped>} is deleted, {@code "-\n"} is deleted (a word hyphenated across lines is
 *       joined), every other {@code \n} becomes a space;
 *   <li>the entities {@code &quot; &amp; &lt; &gt;} become {@code " & < >};
 *   <li>a space is added at both ends, then four regular-expression rewrites run one after the other:
 *     <ol type="a">
 *       <li>every ASCII symbol in {@code { | } ~ [ \ ] ^ _ ` ! " # $ % & ( ) * + : ; < = > ? @ /} is
 *           surrounded by spaces (note what is <em>not</em> in the list: the apostrophe, the hyphen,
 *           the period and the comma, and every non-ASCII character such as {@code ¿ ¶ “});
 *       <li>a period or comma preceded by anything but an ASCII digit is split off;
 *       <li>a period or comma followed by anything but an ASCII digit is split off (so {@code 3.50}
 *           and {@code 1,000} stay whole, while {@code 5.} and {@code .5} are split);
 *       <li>a hyphen preceded by a digit is split off ({@code 1990-2000} gives three tokens;
 *           {@code well-known} stays one);
 *     </ol>
 *   <li>the line is split on whitespace as Python's {@code str.split()} defines it (Unicode spaces
 *       including U+00A0 and U+0085; see {@link #isPythonWhitespace}).
 * </ol>
 *
 * <p>Each rewrite scans left to right over non-overlapping matches, exactly as Python's
 * {@code re.sub}, which is also what {@link java.util.regex.Matcher#replaceAll} does; the patterns
 * are the ones mteval-v13a uses. Case is kept (sacreBLEU's default).
 */
public final class Tokenizer13a {

    /** ASCII symbols that are always split off: the ranges {-~, [-`, space-&, (-+, :-@ and /. */
    private static final Pattern SYMBOL = Pattern.compile("([{-~\\[-` -&(-+:-@/])");
    private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([.,])");
    private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Tokenizer13a() {
    }

    /** The tokens of one segment (hypothesis or reference). */
    public static List<String> tokenize(String segment) {
        if (segment == null) {
            throw new IllegalArgumentException("segment must not be null");
        }
        String line = rstrip(segment)
                .replace("<skipped>", "")
                .replace("-\n", "")
                .replace("\n", " ")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">");
        line = " " + line + " ";
        line = SYMBOL.matcher(line).replaceAll(" $1 ");
        line = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(line).replaceAll("$1 $2 ");
        line = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(line).replaceAll(" $1 $2");
        line = DASH_AFTER_DIGIT.matcher(line).replaceAll("$1 $2 ");
        return splitWhitespace(line);
    }

    /**
     * Python's {@code str.isspace()} for one code point: Java's {@link Character#isWhitespace} leaves
     * out the no-break spaces (U+00A0, U+2007, U+202F) and U+0085, which Python counts.
     */
    static boolean isPythonWhitespace(int codePoint) {
        return Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint) || codePoint == 0x85;
    }

    /** Python's {@code text.split()}: runs of whitespace separate tokens, no empty tokens. */
    static List<String> splitWhitespace(String text) {
        List<String> tokens = new ArrayList<>();
        int start = -1;
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            if (isPythonWhitespace(cp)) {
                if (start >= 0) {
                    tokens.add(text.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            tokens.add(text.substring(start));
        }
        return tokens;
    }

    /** Python's {@code text.rstrip()}. */
    static String rstrip(String text) {
        int end = text.length();
        while (end > 0) {
            int cp = text.codePointBefore(end);
            if (!isPythonWhitespace(cp)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return text.substring(0, end);
    }
}
