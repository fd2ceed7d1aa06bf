package io.skipllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The CLI in-process: JSON shapes and exit codes of CONTRACTS.md. */
class CliTest {

    record Result(int code, String out, String err) {
    }

    static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void planPrintsTheContractJson() {
        Result r = run("plan", "--layers", "30", "--speedup", "5");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"strategy\":\"unified\",\"layers\":30,\"speedup\":5.0,\"retained\":[0,6,12,18,24,29]}\n", r.out());
    }

    @Test
    void planWithStrategies() {
        assertEquals("{\"strategy\":\"top\",\"layers\":30,\"speedup\":3.0,\"retained\":[0,1,2,3,4,5,6,7,8,9]}\n",
                run("plan", "--layers", "30", "--speedup", "3", "--strategy", "top").out());
        assertEquals("{\"strategy\":\"bottom\",\"layers\":30,\"speedup\":5.0,\"retained\":[24,25,26,27,28,29]}\n",
                run("plan", "--layers", "30", "--speedup=5", "--strategy=bottom").out());
        assertEquals("{\"strategy\":\"full\",\"layers\":4,\"speedup\":2.0,\"retained\":[0,1,2,3]}\n",
                run("plan", "--layers", "4", "--speedup", "2", "--strategy", "full").out());
    }

    @Test
    void badInputExitsWithTwoAndOneErrorLine() {
        for (String[] argv : new String[][] {
            {"plan", "--layers", "30", "--speedup", "0.5"},
            {"plan", "--layers", "30"},
            {"plan", "--layers", "x", "--speedup", "2"},
            {"plan", "--layers", "30", "--speedup", "2", "--strategy", "middle"},
            {"plan", "--layers", "30", "--speedup", "2", "--bogus", "1"},
            {"plan", "--layers", "30", "--speedup", "NaN"},
            {"nonsense"},
            {},
        }) {
            Result r = run(argv);
            assertEquals(2, r.code(), String.join(" ", argv));
            assertTrue(r.err().startsWith("error: ") || argv.length == 0, r.err());
            assertEquals("", r.out(), String.join(" ", argv));
            if (argv.length > 0) {
                assertEquals(1, r.err().lines().count(), "exactly one line without --debug: " + r.err());
            }
        }
    }

    @Test
    void debugAddsTheStackTrace() {
        Result r = run("plan", "--layers", "0", "--speedup", "2", "--debug");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: number of layers must be >= 1, got 0"), r.err());
        assertTrue(r.err().contains("at io.skipllm."), r.err());
    }
}
