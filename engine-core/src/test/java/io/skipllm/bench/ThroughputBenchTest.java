package io.skipllm.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.model.CausalLm;
import io.skipllm.model.RandomModels;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.SkipStrategy;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench's rows: structure and arithmetic, not timings (those are measured, never asserted). */
class ThroughputBenchTest {

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @Test
    void rowsFollowTheContract() {
        CausalLm model = RandomModels.fromSpec("random:llama,layers=6,hidden=32,heads=4,kv_heads=2,intermediate=48,vocab=40,seed=3");
        List<ThroughputBench.Row> rows = new ThroughputBench(model).run(new ThroughputBench.Options(
                List.of("unified", "skipdecode", "early-exit"), List.of(2.0), List.of(1, 2), 1, 4, 6, 0, 1, 1), QUIET);
        assertEquals(8, rows.size());

        ThroughputBench.Row full = rows.get(0);
        assertEquals("full", full.strategy());
        assertEquals(1.0, full.speedupVsFull(), 1e-12);
        assertEquals(6.0, full.activatedLayers(), 1e-12);
        assertEquals(1.0, full.predictedSpeedup(), 1e-12);

        ThroughputBench.Row unified = rows.get(1);
        assertEquals("unified", unified.strategy());
        assertArrayEquals(new int[] {0, 3, 5}, unified.retained());
        assertEquals(3.0, unified.activatedLayers(), 1e-12);
        double layer = model.layerWeightBytes();
        double head = model.headWeightBytes();
        assertEquals((6 * layer + head) / (3 * layer + head), unified.predictedSpeedup(), 1e-9);
        assertEquals(unified.tokensPerS() / full.tokensPerS(), unified.speedupVsFull(), 1e-9);
        // one round: its paired ratio is the pooled one
        assertEquals(unified.speedupVsFull(), unified.speedupVsFullMin(), 1e-9);
        assertEquals(unified.speedupVsFull(), unified.speedupVsFullMax(), 1e-9);
        assertEquals(1.0, full.speedupVsFullMin(), 1e-12);

        ThroughputBench.Row skipDecode = rows.get(2);
        assertEquals("skipdecode", skipDecode.strategy());
        assertTrue(skipDecode.activatedLayers() >= 2 && skipDecode.activatedLayers() <= 5, "" + skipDecode.activatedLayers());
        assertNull(skipDecode.retained());

        assertTrue(rows.get(3).supported(), "early exit runs at batch 1");
        ThroughputBench.Row earlyExitBatch2 = rows.get(7);
        assertEquals(2, earlyExitBatch2.batch());
        assertFalse(earlyExitBatch2.supported());
        assertNull(earlyExitBatch2.tokensPerS());
        assertTrue(earlyExitBatch2.toJson().containsKey("tokens_per_s"));
        assertNull(earlyExitBatch2.toJson().get("tokens_per_s"));
    }

    @Test
    void beamsMultiplyRows() {
        CausalLm model = RandomModels.fromSpec("random:bloom,layers=4,hidden=24,heads=3,vocab=30,seed=4");
        List<ThroughputBench.Row> rows = new ThroughputBench(model).run(new ThroughputBench.Options(
                List.of("unified"), List.of(2.0), List.of(2), 3, 3, 4, 0, 1, 1), QUIET);
        assertEquals(2, rows.size());
        assertEquals(3, rows.get(1).beams());
        assertArrayEquals(new int[] {0, 3}, rows.get(1).retained());
        assertEquals(2.0, rows.get(1).activatedLayers(), 1e-12, "every beam row runs the retained set");

        // what the bench decodes for 2 prompts x 3 beams: 6 rows, each prompt's beams side by side
        int[][] beamRows = ThroughputBench.beamRows(new int[][] {{5, 6}, {7}}, 3);
        assertArrayEquals(new int[][] {{5, 6}, {5, 6}, {5, 6}, {7}, {7}, {7}}, beamRows);
        assertArrayEquals(new int[] {4, 4, 4, 2, 2, 2}, ThroughputBench.beamRowLengths(new int[] {4, 2}, 3));
        // each step moves cache rows as beam search does, rotating beams within their own prompt only
        assertArrayEquals(new int[] {1, 2, 0, 4, 5, 3}, ThroughputBench.beamGather(6, 3));
        assertNull(ThroughputBench.beamGather(2, 1), "a single beam moves nothing");
    }

    @Test
    void responseLengthsStopEachPromptWhileSkipDecodeKeepsItsBudget() {
        CausalLm model = RandomModels.fromSpec("random:llama,layers=8,hidden=32,heads=4,kv_heads=2,intermediate=48,vocab=40,seed=5");
        ThroughputBench bench = new ThroughputBench(model);
        // budget 16 new tokens; the two prompts stop after 2 and 4
        List<ThroughputBench.Row> early = bench.run(new ThroughputBench.Options(List.of("unified", "skipdecode"),
                List.of(2.0), List.of(1, 2), 1, 3, 16, List.of(2, 4), 0, 2, 1), QUIET);
        List<ThroughputBench.Row> fixed = bench.run(new ThroughputBench.Options(List.of("skipdecode"),
                List.of(2.0), List.of(2), 1, 3, 16, 0, 1, 1), QUIET);
        assertEquals(6, early.size());
        ThroughputBench.Row unified = early.get(1);
        assertEquals(4.0, unified.activatedLayers(), 1e-12, "unified runs its retained set whatever the length");
        // SkipDecode's depth falls linearly over the 16-token budget: stopping after 2 and 4 tokens keeps
        // only the deep start of its schedule, so its mean depth is above the full-length mean
        io.skipllm.baselines.SkipDecodeSchedule schedule = io.skipllm.baselines.SkipDecodeSchedule.forTarget(8, 2.0, 16);
        double expected = (2 * schedule.meanLayers(2) + 4 * schedule.meanLayers(4)) / 6;
        assertEquals(expected, early.get(2).activatedLayers(), 1e-9);
        assertEquals(expected, early.get(5).activatedLayers(), 1e-9, "batch 2: the finished prompt's padding steps don't count");
        assertTrue(early.get(2).activatedLayers() > fixed.get(1).activatedLayers() + 1,
                early.get(2).activatedLayers() + " vs " + fixed.get(1).activatedLayers());
        assertEquals(schedule.meanLayers(16), fixed.get(1).activatedLayers(), 1e-9);
        for (ThroughputBench.Row row : early) {
            assertTrue(row.speedupVsFullMin() <= row.speedupVsFull() + 1e-9 && row.speedupVsFull() <= row.speedupVsFullMax() + 1e-9,
                    "the pooled speedup lies within the rounds' paired ratios: " + row);
        }
    }

    @Test
    void selfSpeculativeRowsCarryDraftLengthAndAcceptance() {
        CausalLm model = RandomModels.fromSpec("random:llama,layers=6,hidden=32,heads=4,kv_heads=2,intermediate=48,vocab=40,seed=3");
        // two prompts stopping after 2 and 5 decode tokens; batch 2 runs both to 5 in one call
        List<ThroughputBench.Row> rows = new ThroughputBench(model).run(new ThroughputBench.Options(
                List.of("unified", "self-speculative"), List.of(2.0, 1.0), List.of(1, 2), 1, 4, 6, List.of(2, 5), 0, 2, 1,
                List.of(2, 3)), QUIET);
        // per batch size: full, unified 2x and 1x, self-speculative 2x k=2, k=3, 1x k=2, k=3
        assertEquals(14, rows.size());
        double layer = model.layerWeightBytes();
        double head = model.headWeightBytes();
        for (ThroughputBench.Row row : rows) {
            Map<String, Object> json = row.toJson();
            if (!row.strategy().equals("self-speculative")) {
                assertNull(row.draftTokens());
                assertFalse(json.containsKey("draft_tokens"), "other rows are unchanged: " + json);
                continue;
            }
            assertTrue(row.supported());
            for (String key : new String[] {"draft_tokens", "acceptance_rate", "acceptance_by_position", "tokens_per_round",
                "activated_layers", "tokens_per_s", "speedup_vs_full", "predicted_speedup", "prefill_ms", "retained"}) {
                assertTrue(json.containsKey(key), key + " in " + json);
            }
            int k = row.draftTokens();
            assertTrue(k == 2 || k == 3, "" + k);
            assertTrue(row.acceptanceRate() >= 0 && row.acceptanceRate() <= 1, "" + row.acceptanceRate());
            assertEquals(k, row.acceptanceByPosition().length);
            assertEquals(k, ((List<?>) json.get("acceptance_by_position")).size());
            assertTrue(row.tokensPerRound() >= 1 && row.tokensPerRound() <= k + 1, "" + row.tokensPerRound());
            // drafts through unified's set at the speedup
            assertArrayEquals(LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 6, row.speedup()).indices(), row.retained());
            assertTrue(row.tokensPerS() > 0);
            assertEquals((6 * layer + head) / (row.activatedLayers() * layer + head), row.predictedSpeedup(), 1e-9,
                    "activated_layers is the weight-read equivalent depth behind predicted_speedup");
            assertTrue(row.speedupVsFullMin() <= row.speedupVsFull() + 1e-9 && row.speedupVsFull() <= row.speedupVsFullMax() + 1e-9);
            if (row.speedup() == 1.0) {
                // every layer drafts: the full network's own tokens, so (up to float rounding) all accepted,
                // and each round of k drafts and one verification reads k + 1 full passes
                assertTrue(row.acceptanceRate() > 0.9, "" + row.acceptanceRate());
                assertTrue(row.predictedSpeedup() < 1.0 + 1e-9, "" + row.predictedSpeedup());
            }
        }
        assertEquals(List.of("full", "unified", "unified", "self-speculative", "self-speculative", "self-speculative",
                "self-speculative"), rows.subList(0, 7).stream().map(ThroughputBench.Row::strategy).toList());
        assertEquals(List.of(2, 3, 2, 3), rows.subList(3, 7).stream().map(ThroughputBench.Row::draftTokens).toList());
    }

    @Test
    void selfSpeculativeWithBeamsIsUnsupported() {
        CausalLm model = RandomModels.fromSpec("random:bloom,layers=4,hidden=24,heads=3,vocab=30,seed=4");
        List<ThroughputBench.Row> rows = new ThroughputBench(model).run(new ThroughputBench.Options(
                List.of("unified", "self-speculative"), List.of(2.0), List.of(1), 2, 3, 3, List.of(), 0, 1, 1, List.of(4)),
                QUIET);
        assertEquals(3, rows.size());
        assertTrue(rows.get(1).supported());
        ThroughputBench.Row speculative = rows.get(2);
        assertEquals("self-speculative", speculative.strategy());
        assertFalse(speculative.supported());
        assertEquals(2, speculative.beams());
        assertNull(speculative.tokensPerS());
        Map<String, Object> json = speculative.toJson();
        assertEquals(4, json.get("draft_tokens"));
        assertTrue(json.containsKey("acceptance_rate"));
        assertNull(json.get("acceptance_rate"));
        assertNull(json.get("tokens_per_s"));

        assertThrows(BadInputException.class, () -> new ThroughputBench.Options(List.of("self-speculative"),
                List.of(2.0), List.of(1), 1, 4, 4, List.of(), 0, 1, 1, List.of(0)));
        assertThrows(BadInputException.class, () -> new ThroughputBench.Options(List.of("self-speculative"),
                List.of(2.0), List.of(1), 1, 4, 4, List.of(), 0, 1, 1, List.of(17)));
        assertThrows(BadInputException.class, () -> new ThroughputBench.Options(List.of("self-speculative"),
                List.of(2.0), List.of(1), 1, 4, 4, List.of(), 0, 1, 1, List.of()));
    }

    @Test
    void responseLengthsMustFitTheBudgetAndTheBatches() {
        assertThrows(BadInputException.class, () -> new ThroughputBench.Options(List.of("unified"), List.of(2.0),
                List.of(1), 1, 4, 8, List.of(3, 9), 0, 1, 1));
        assertThrows(BadInputException.class, () -> new ThroughputBench.Options(List.of("unified"), List.of(2.0),
                List.of(1), 1, 4, 8, List.of(0), 0, 1, 1));
        BadInputException e = assertThrows(BadInputException.class, () -> new ThroughputBench.Options(List.of("unified"),
                List.of(2.0), List.of(1, 2), 1, 4, 8, List.of(3, 4, 5), 0, 1, 1));
        assertTrue(e.getMessage().contains("batches of 2"), e.getMessage());
    }

    @Test
    void badOptionsAndSpecsAreRejected() {
        assertThrows(BadInputException.class, () -> new ThroughputBench.Options(List.of("middle"), List.of(2.0),
                List.of(1), 1, 4, 4, 0, 1, 1));
        assertThrows(BadInputException.class, () -> new ThroughputBench.Options(List.of("unified"), List.of(0.5),
                List.of(1), 1, 4, 4, 0, 1, 1));
        assertThrows(BadInputException.class, () -> RandomModels.fromSpec("random:gpt2,layers=2"));
        assertThrows(BadInputException.class, () -> RandomModels.fromSpec("random:llama,layers=x"));
        assertThrows(BadInputException.class, () -> RandomModels.fromSpec("random:llama,depth=3"));
        assertThrows(BadInputException.class, () -> RandomModels.fromSpec("random:llama,hidden=30,heads=4"));
    }
}
