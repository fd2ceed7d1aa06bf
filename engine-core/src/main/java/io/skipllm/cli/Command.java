package io.skipllm.cli;

import java.io.PrintStream;

/** One CLI sub-command. JSON goes to {@code out}, human-readable progress and timing to {@code err}. */
interface Command {

    String name();

    /** A one-line usage string shown by {@code help}. */
    String usage();

    /** Runs the command; throws {@link io.skipllm.SkipLlmException} subclasses for expected failures. */
    void run(String[] argv, PrintStream out, PrintStream err) throws Exception;

    /** Whether the command computes with ND4J (then the backend is started, and reported on --debug, first). */
    default boolean needsBackend() {
        return true;
    }
}
