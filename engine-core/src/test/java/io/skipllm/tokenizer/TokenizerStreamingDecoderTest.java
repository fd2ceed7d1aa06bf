package io.skipllm.tokenizer;

import static io.skipllm.tokenizer.TokenizerTestFiles.EOS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TokenizerStreamingDecoderTest {

    private static Tokenizer bpe;
    private static Tokenizer words;

    @BeforeAll
    static void load() {
        bpe = Tokenizer.load(TokenizerTestFiles.byteBpe());
        words = Tokenizer.load(TokenizerTestFiles.wordLevel());
    }

    @AfterAll
    static void close() {
        bpe.close();
        words.close();
    }

    private static int[] withEos(int[] ids) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = EOS;
        return out;
    }

    /** Streams ids and checks the invariants; returns the fragments (flush included, last). */
    private static List<String> stream(Tokenizer tok, int[] ids) {
        StreamingDecoder d = tok.streamingDecoder();
        List<String> fragments = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        for (int id : ids) {
            String f = d.push(id);
            fragments.add(f);
            all.append(f);
            assertFalse(f.indexOf('\uFFFD') >= 0, "fragment with U+FFFD: " + fragments);
            if (!f.isEmpty()) {
                assertFalse(Character.isHighSurrogate(f.charAt(f.length() - 1)), "split pair");
            }
            // What was returned so far is always a prefix of the full decode so far.
            assertTrue(d.text().startsWith(all.toString()), d.text() + " vs " + all);
        }
        String rest = d.flush();
        fragments.add(rest);
        all.append(rest);
        assertEquals(tok.decode(ids), all.toString());
        assertEquals(tok.decode(ids), d.text());
        assertArrayEquals(ids, d.ids());
        assertEquals("", d.flush());
        return fragments;
    }

    @Test
    void multibyteCharactersAreHeldBackUntilComplete() {
        String text = "¿Dónde está el niño? 🦙 😀!";
        int[] ids = withEos(bpe.encode(text));
        List<String> fragments = stream(bpe, ids);
        assertEquals(text, String.join("", fragments));
        assertEquals("", fragments.get(0), "BOS is skipped");
        assertEquals("", fragments.get(fragments.size() - 1), "nothing left to flush");
        assertTrue(fragments.contains("🦙"), fragments.toString());
        assertTrue(fragments.contains("ó"), fragments.toString());
    }

    @Test
    void emojiSpanningFourTokens() {
        StreamingDecoder d = bpe.streamingDecoder();
        assertEquals("Hello", d.push(bpe.tokenId("Hello").orElseThrow()));
        assertEquals(" ", d.push(bpe.tokenId("Ġ").orElseThrow()));
        assertEquals("", d.push(0xF0));
        assertEquals("", d.push(0x9F));
        assertEquals("", d.push(0xA6));
        assertEquals("🦙", d.push(0x99));
        assertEquals("Hello 🦙", d.text());
        assertEquals(6, d.size());
    }

    @Test
    void flushReturnsAnIncompleteTail() {
        StreamingDecoder d = bpe.streamingDecoder();
        assertEquals("a", d.push('a'));
        assertEquals("", d.push(0xC3));
        assertEquals("\uFFFD", d.flush());
        assertEquals("a\uFFFD", d.text());
    }

    @Test
    void specialTokensCanBeKept() {
        StreamingDecoder d = bpe.streamingDecoder(false);
        StringBuilder sb = new StringBuilder();
        for (int id : withEos(bpe.encode("Hello"))) {
            sb.append(d.push(id));
        }
        sb.append(d.flush());
        assertEquals("<s>Hello</s>", sb.toString());
    }

    @Test
    void longSequence() {
        String text = "Hello world, ¿qué tal? 🦙 ".repeat(40);
        List<String> fragments = stream(bpe, bpe.encode(text));
        assertEquals(text, String.join("", fragments));
    }

    @Test
    void wordLevelStreamsWordsWithSpaces() {
        int[] ids = words.encode("the cat sat on the mat .");
        List<String> fragments = stream(words, ids);
        assertEquals("the cat sat on the mat .", String.join("", fragments));
        assertEquals(List.of("", "the", " cat", " sat", " on", " the", " mat", " .", "", ""), fragments);
    }

    @Test
    void negativeIdIsRejected() {
        assertThrows(BadInputException.class, () -> bpe.streamingDecoder().push(-1));
    }
}
