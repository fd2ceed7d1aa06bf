package io.skipllm.model.host;

/**
 * The rows of one forward call and where each goes (vLLM's attention metadata): one record instead of
 * parallel arguments. Row {@code i} feeds {@code tokens[i]} at {@code positions[i]} into cache row
 * {@code sequences[i]}, slot {@code slots[i]}, and attends over that cache row's slots
 * {@code [firstVisible[sequences[i]], slots[i]]}; rows of one sequence come in ascending slot order.
 * Only the first {@code count} entries of each per-row array are read, so callers reuse arrays sized
 * for their largest call.
 *
 * @param count rows in this call
 * @param tokens token id of each row
 * @param positions position of each row (real tokens before it in its sequence)
 * @param sequences the cache row each row belongs to
 * @param slots the cache slot each row writes
 * @param firstVisible per cache row, the first slot its rows may attend to (left padding before it)
 * @param logitsRows per row, where its logits go in the call's logits array ({@code [index * vocab, ...)}),
 *     or -1 for rows whose logits are not needed
 */
public record StepRows(int count, int[] tokens, int[] positions, int[] sequences, int[] slots, int[] firstVisible,
        int[] logitsRows) {
}
