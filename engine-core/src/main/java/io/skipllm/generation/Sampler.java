package io.skipllm.generation;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws a token from processed scores (multinomial over their softmax). Separate from the model and
 * the processors so that the random stream is the only state: each sampled sequence owns one
 * {@link SplittableRandom} seeded from the request's seed, the prompt's tokens and the sequence index,
 * never the prompt's position in the batch, so a prompt samples the same tokens alone or inside a
 * batch (and different prompts under one seed do not share a random stream).
 */
final class Sampler {

    private Sampler() {
    }

    /** The generator of sampled sequence {@code sequence} of {@code prompt} under {@code seed}. */
    static SplittableRandom random(long seed, int[] prompt, int sequence) {
        long h = seed;
        h = mix(h + 0x9E3779B97F4A7C15L * Arrays.hashCode(prompt));
        h = mix(h + 0x9E3779B97F4A7C15L * (sequence + 1L));
        return new SplittableRandom(h);
    }

    /** The 64-bit finaliser of MurmurHash3: nearby inputs give unrelated seeds. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /** Samples an index with probability softmax(scores); {@code -infinity} scores are never drawn. */
    static int sample(double[] scores, SplittableRandom random) {
        return sampleProbabilities(LogitsProcessors.softmax(scores), random);
    }

    /** Samples an index with the given probabilities (summing to 1 up to rounding). */
    static int sampleProbabilities(double[] probs, SplittableRandom random) {
        double u = random.nextDouble();
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] > 0) {
                cumulative += probs[i];
                last = i;
                if (u < cumulative) {
                    return i;
                }
            }
        }
        return last; // u landed in the rounding gap above the final cumulative sum
    }
}
