package io.skipllm.serving.http;

import java.util.List;

/**
 * OpenAI's stop-string rule for streamed text: the returned text ends before the first stop string
 * and never contains it. Text that might be the start of a stop string is held back until the next
 * fragment shows whether it is, so the concatenated output equals {@link #truncate} of the whole text.
 */
final class StopTextFilter {

    private final List<String> stops;
    private final int longest;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    StopTextFilter(List<String> stops) {
        this.stops = List.copyOf(stops);
        this.longest = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** The part of {@code text} before the earliest stop string; all of it when none occurs. */
    static String truncate(String text, List<String> stops) {
        int at = earliest(text, stops);
        return at < 0 ? text : text.substring(0, at);
    }

    /** True when {@code text} contains one of {@code stops}. */
    static boolean contains(String text, List<String> stops) {
        return earliest(text, stops) >= 0;
    }

    /** Takes the next fragment; returns the text that can be emitted now (possibly empty). */
    String accept(String fragment) {
        if (stopped || fragment == null || fragment.isEmpty()) {
            return "";
        }
        if (stops.isEmpty()) {
            return fragment;
        }
        pending.append(fragment);
        int at = earliest(pending, stops);
        if (at >= 0) {
            String out = pending.substring(0, at);
            pending.setLength(0);
            stopped = true;
            return out;
        }
        int hold = 0;
        for (int k = Math.min(pending.length(), longest - 1); k >= 1 && hold == 0; k--) {
            String suffix = pending.substring(pending.length() - k);
            for (String s : stops) {
                if (s.startsWith(suffix)) {
                    hold = k;
                    break;
                }
            }
        }
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** At the end of the sequence: the held-back text (none after a stop string). */
    String finish() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    /** True once a stop string was found. */
    boolean stopped() {
        return stopped;
    }

    private static int earliest(CharSequence text, List<String> stops) {
        String s = text.toString();
        int best = -1;
        for (String stop : stops) {
            int at = s.indexOf(stop);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best;
    }
}
