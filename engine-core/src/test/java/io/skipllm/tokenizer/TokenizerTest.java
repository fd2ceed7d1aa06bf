package io.skipllm.tokenizer;

import static io.skipllm.tokenizer.TokenizerTestFiles.BOS;
import static io.skipllm.tokenizer.TokenizerTestFiles.BYTE_BPE_VOCAB;
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
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TokenizerTest {

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

    private static int id(String token) {
        return bpe.tokenId(token).orElseThrow();
    }

    @Test
    void knownTokenIdsAndMerges() {
        assertArrayEquals(
                new int[] {id("Hello"), id("Ġworld")}, bpe.encodeWithoutSpecialTokens("Hello world"));
        // 'H' is byte 0x48 and its byte symbol has id 0x48.
        assertEquals(Optional.of(0x48), bpe.tokenId("H"));
        assertEquals(Optional.of(BOS), bpe.tokenId("<s>"));
        assertEquals(Optional.of(EOS), bpe.tokenId("</s>"));
        assertEquals(Optional.empty(), bpe.tokenId("no-such-token"));
        assertEquals(BYTE_BPE_VOCAB, bpe.vocabSize());
        assertEquals(11, words.vocabSize());
    }

    @Test
    void roundTripAscii() {
        String text = "Hello world, the cat sat on the mat.\nTabs\tand  double  spaces ";
        assertEquals(text, bpe.decode(bpe.encode(text)));
        assertEquals(text, bpe.decode(bpe.encodeWithoutSpecialTokens(text)));
    }

    @Test
    void roundTripSpanish() {
        String text = "¿Dónde está el niño?";
        int[] ids = bpe.encodeWithoutSpecialTokens(text);
        assertEquals(text, bpe.decode(ids));
        // 'ñ' (C3 B1) is one merged token; 'ó' (C3 B3) spans two byte tokens.
        int enye = id("Ã±");
        assertTrue(Arrays.stream(ids).anyMatch(i -> i == enye), Arrays.toString(ids));
        assertArrayEquals(new int[] {0xC3, 0xB3}, bpe.encodeWithoutSpecialTokens("ó"));
    }

    @Test
    void roundTripEmoji() {
        String text = "I like 🦙 and 😀!";
        assertEquals(text, bpe.decode(bpe.encode(text)));
        // U+1F999 is F0 9F A6 99 in UTF-8: four byte tokens.
        assertArrayEquals(new int[] {0xF0, 0x9F, 0xA6, 0x99}, bpe.encodeWithoutSpecialTokens("🦙"));
    }

    @Test
    void encodeAddsBosOnlyWithSpecialTokens() {
        String text = "the world";
        int[] with = bpe.encode(text);
        int[] without = bpe.encodeWithoutSpecialTokens(text);
        assertEquals(BOS, with[0]);
        assertArrayEquals(without, Arrays.copyOfRange(with, 1, with.length));
        assertFalse(Arrays.stream(without).anyMatch(i -> i == BOS || i == EOS));
        // No EOS: the post-processor only adds <s>.
        assertEquals(without.length + 1, with.length);
    }

    @Test
    void decodeSkipsSpecialTokens() {
        String text = "Hello world";
        int[] ids = bpe.encode(text);
        int[] withEos = Arrays.copyOf(ids, ids.length + 1);
        withEos[ids.length] = EOS;
        assertEquals(text, bpe.decode(withEos));
        assertEquals("<s>" + text + "</s>", bpe.decodeWithSpecialTokens(withEos));
    }

    @Test
    void specialTokenInTextIsRecognised() {
        assertArrayEquals(new int[] {BOS, id("Hello")}, bpe.encodeWithoutSpecialTokens("<s>Hello"));
    }

    @Test
    void incompleteUtf8DecodesToReplacementChar() {
        assertEquals("\uFFFD", bpe.decode(new int[] {0xC3}));
        assertEquals("é", bpe.decode(new int[] {0xC3, 0xA9}));
    }

    @Test
    void noTruncationAt2000Tokens() {
        // 'z' has no merges, so 2000 z's are 2000 tokens (+ BOS); DJL's default would cut at 512.
        String text = "z".repeat(2000);
        int[] ids = bpe.encode(text);
        assertEquals(2001, ids.length);
        assertEquals(text, bpe.decode(ids));

        String many = "Hello world ".repeat(1500);
        int[] manyIds = bpe.encodeWithoutSpecialTokens(many);
        assertTrue(manyIds.length > 3000, "got " + manyIds.length);
        assertEquals(many, bpe.decode(manyIds));

        int[] wordIds = words.encode("hello ".repeat(2000));
        assertEquals(2002, wordIds.length);
        assertEquals(1, wordIds[0]);
        assertEquals(2, wordIds[2001]);
    }

    @Test
    void noPadding() {
        assertEquals(2, bpe.encode("a").length);
        assertEquals(1, bpe.encodeWithoutSpecialTokens("a").length);
        assertEquals(0, bpe.encodeWithoutSpecialTokens("").length);
    }

    @Test
    void wordLevel() {
        int[] ids = words.encode("Hello World");
        assertArrayEquals(new int[] {1, 3, 4, 2}, ids);
        assertArrayEquals(new int[] {3, 4}, words.encodeWithoutSpecialTokens("hello world"));
        assertEquals("hello world", words.decode(ids));
        assertEquals("[CLS] hello world [SEP]", words.decodeWithSpecialTokens(ids));
        // Unknown words become [UNK] (special, so skipped by decode).
        int[] unk = words.encodeWithoutSpecialTokens("the dog sat");
        assertArrayEquals(new int[] {5, 0, 7}, unk);
        assertEquals("the sat", words.decode(unk));
        assertEquals(Optional.of(6), words.tokenId("cat"));
    }

    @Test
    void unknownIdsDecodeToNothingAndNegativeIdsAreRejected() {
        assertEquals("Hello", bpe.decode(new int[] {id("Hello"), 5000}));
        assertThrows(BadInputException.class, () -> bpe.decode(new int[] {-1}));
        assertThrows(BadInputException.class, () -> bpe.decodeWithSpecialTokens(new int[] {3, -7}));
    }

    @Test
    void concurrentUse() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            texts.add("¿Dónde está el niño " + i + "? 🦙 Hello world " + "x".repeat(i));
        }
        List<int[]> expected = new ArrayList<>();
        for (String t : texts) {
            expected.add(bpe.encode(t));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> futures = new ArrayList<>();
            for (int round = 0; round < 20; round++) {
                for (int i = 0; i < texts.size(); i++) {
                    int k = i;
                    futures.add(
                            pool.submit(
                                    () ->
                                            Arrays.equals(expected.get(k), bpe.encode(texts.get(k)))
                                                    && texts.get(k)
                                                            .equals(bpe.decode(expected.get(k)))));
                }
            }
            for (Future<Boolean> f : futures) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closedTokenizerRefusesWork() {
        Tokenizer t = Tokenizer.load(TokenizerTestFiles.byteBpe());
        assertEquals(4, t.encode("abc").length);
        t.close();
        t.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> t.encode("abc"));
        assertThrows(IllegalStateException.class, () -> t.decode(new int[] {1}));
        // tokenId and vocabSize are pure Java and keep working.
        assertEquals(BYTE_BPE_VOCAB, t.vocabSize());
    }
}
