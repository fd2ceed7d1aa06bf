package io.skipllm.model.host;

import io.skipllm.weights.Weight;

/**
 * The LM head of a host forward pass for the rows that need logits (a prompt chunk needs them for each
 * sequence's last token only): those rows are moved to the front of the residual buffer, normalised
 * by the architecture, and multiplied by the head in one call that reads the head's weights once.
 */
public final class HostHead {

    private final int hidden;
    private final int vocab;
    private final int[] targets;
    /** Logits of the wanted rows when they do not go straight to the caller's array. */
    private float[] scratch = new float[0];

    public HostHead(int hidden, int vocab, int maxRows) {
        this.hidden = hidden;
        this.vocab = vocab;
        this.targets = new int[maxRows];
    }

    /**
     * Moves the rows of {@code x} whose {@code logitsRows} entry is not -1 to its front, in order, and
     * returns how many there are. Destroys the other rows (the head is the pass's last step).
     */
    public int gather(float[] x, int n, int[] logitsRows) {
        int wanted = 0;
        for (int i = 0; i < n; i++) {
            if (logitsRows[i] >= 0) {
                System.arraycopy(x, i * hidden, x, wanted * hidden, hidden);
                targets[wanted++] = logitsRows[i];
            }
        }
        return wanted;
    }

    /** {@code head} times the first {@code wanted} normalised rows, each into {@code logits} at its target. */
    public void project(Weight head, float[] normalised, int wanted, float[] logits) {
        boolean inOrder = true;
        for (int k = 0; k < wanted; k++) {
            inOrder &= targets[k] == k;
        }
        if (inOrder) {
            head.matmul(normalised, wanted, logits, false);
            return;
        }
        if (scratch.length < wanted * vocab) {
            scratch = new float[wanted * vocab];
        }
        head.matmul(normalised, wanted, scratch, false);
        for (int k = 0; k < wanted; k++) {
            System.arraycopy(scratch, k * vocab, logits, targets[k] * vocab, vocab);
        }
    }
}
