package io.skipllm.serving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Streamed stop-string truncation equals truncating the whole text, however the text is split. */
class StopTextFilterTest {

    @Test
    void streamedPiecesAddUpToTheTruncatedText() {
        List<List<String>> stopSets = List.of(List.of(), List.of("\n"), List.of("END", "ND!"), List.of("aab", "b"),
                List.of("xyz"), List.of("the end", "."));
        List<String> texts = List.of("hello world", "line one\nline two", "almost ENthe END! here", "aaab", "xy xyz",
                "It was the end. Really", "", "no stop here at all");
        SplittableRandom random = new SplittableRandom(3);
        for (List<String> stops : stopSets) {
            for (String text : texts) {
                for (int trial = 0; trial < 20; trial++) {
                    StopTextFilter filter = new StopTextFilter(stops);
                    StringBuilder out = new StringBuilder();
                    int i = 0;
                    while (i < text.length()) {
                        int n = Math.min(text.length() - i, random.nextInt(4));
                        out.append(filter.accept(text.substring(i, i + n)));
                        i += n;
                    }
                    out.append(filter.finish());
                    assertEquals(StopTextFilter.truncate(text, stops), out.toString(), stops + " / " + text);
                    assertEquals(StopTextFilter.contains(text, stops), filter.stopped(), stops + " / " + text);
                }
            }
        }
        assertEquals("It was ", StopTextFilter.truncate("It was the end. Really", List.of("the end", ".")));
    }
}
