package io.skipllm.generation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The finished hypotheses of one prompt in beam search, Hugging Face's {@code BeamHypotheses}: the
 * best {@code numBeams} by score, and the rule that decides when the prompt is done.
 */
final class BeamHypotheses {

    /** A finished sequence: its tokens, the raw log-probability sum and the score beam search ranks by. */
    record Finished(int[] tokens, double logprob, double score) {
    }

    private final int numBeams;
    private final double lengthPenalty;
    private final boolean earlyStopping;
    private final List<Finished> best = new ArrayList<>(); // sorted by score, best first

    BeamHypotheses(int numBeams, double lengthPenalty, boolean earlyStopping) {
        this.numBeams = numBeams;
        this.lengthPenalty = lengthPenalty;
        this.earlyStopping = earlyStopping;
    }

    /**
     * Offers a finished sequence.
     *
     * @param rankingSum the sum beam search ranks by (equal to {@code logprob} unless a repetition
     *     penalty changed the log-probabilities)
     */
    void add(int[] tokens, double rankingSum, double logprob) {
        double score = Hypothesis.lengthNormalised(rankingSum, tokens.length, lengthPenalty);
        if (best.size() < numBeams || score > worstScore()) {
            int at = 0;
            while (at < best.size() && best.get(at).score() >= score) {
                at++; // after equal scores: the earlier hypothesis stays ahead
            }
            best.add(at, new Finished(tokens, logprob, score));
            if (best.size() > numBeams) {
                best.remove(best.size() - 1);
            }
        }
    }

    /**
     * Whether no running beam can still enter the list. With early stopping, as soon as it is full;
     * otherwise when even the best running beam, scored at its current length, cannot beat the worst
     * finished one (Hugging Face's heuristic for {@code early_stopping=False}).
     *
     * @param bestRunningSum the best running beam's ranking sum
     * @param generatedLength the running beams' number of generated tokens
     */
    boolean isDone(double bestRunningSum, int generatedLength) {
        if (best.size() < numBeams) {
            return false;
        }
        if (earlyStopping) {
            return true;
        }
        return worstScore() >= Hypothesis.lengthNormalised(bestRunningSum, generatedLength, lengthPenalty);
    }

    int size() {
        return best.size();
    }

    private double worstScore() {
        return best.get(best.size() - 1).score();
    }

    /** The best {@code n}, best first. */
    List<Finished> top(int n) {
        List<Finished> sorted = new ArrayList<>(best);
        sorted.sort(Comparator.comparingDouble(Finished::score).reversed());
        return sorted.subList(0, Math.min(n, sorted.size()));
    }
}
