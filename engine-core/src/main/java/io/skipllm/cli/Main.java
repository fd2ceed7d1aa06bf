package io.skipllm.cli;

import io.skipllm.BadInputException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Entry point of {@code java -jar skipllm.jar <command> [options]}.
 *
 * <p>Exit codes (CONTRACTS.md): 0 success; 2 bad input or usage; 1 any other failure. Errors are one
 * {@code error: } line on stderr; {@code --debug} adds the stack trace.
 */
public final class Main {

    static final int OK = 0;
    static final int FAILURE = 1;
    static final int BAD_INPUT = 2;

    private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        for (Command c : List.<Command>of(new PlanCommand(), new LogitsCommand(), new GenerateCommand(), new BenchCommand(),
                new EvalCommand(), new ServeCommand())) {
            COMMANDS.put(c.name(), c);
        }
    }

    private Main() {
    }

    public static void main(String[] argv) {
        int code = run(argv, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    /** Runs one command and returns its exit code; never throws. Used by tests without a new process. */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        boolean debug = Arrays.asList(argv).contains("--debug");
        try {
            if (argv.length == 0 || argv[0].equals("help") || argv[0].equals("--help") || argv[0].equals("-h")) {
                printUsage(argv.length == 0 ? err : out);
                return argv.length == 0 ? BAD_INPUT : OK;
            }
            Command command = COMMANDS.get(argv[0]);
            if (command == null) {
                throw new BadInputException("unknown command '" + argv[0] + "'; commands: "
                        + String.join(", ", COMMANDS.keySet()));
            }
            if (command.needsBackend()) { // a backend that cannot start is one clear error, before any work
                io.skipllm.backend.BackendInfo info = io.skipllm.backend.Backend.require();
                if (debug) {
                    int at = Arrays.asList(argv).indexOf("--" + ModelLoading.BACKEND);
                    io.skipllm.backend.ForwardBackend forward = at > 0 && at + 1 < argv.length
                            ? io.skipllm.backend.ForwardBackend.parse(argv[at + 1]) : info.defaultForward();
                    err.println("backend: " + info.describe() + "; forward pass: " + forward.label());
                }
            }
            command.run(Arrays.copyOfRange(argv, 1, argv.length), out, err);
            return OK;
        } catch (BadInputException e) {
            report(err, e, debug);
            return BAD_INPUT;
        } catch (Throwable e) { // the CLI's last line of defence: one error line, never a raw stack trace
            report(err, e, debug);
            return FAILURE;
        }
    }

    private static void report(PrintStream err, Throwable e, boolean debug) {
        String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
        if (!(e instanceof io.skipllm.SkipLlmException)) {
            message = e.getClass().getSimpleName() + ": " + message;
        }
        err.println("error: " + message.replace('\n', ' '));
        if (debug) {
            e.printStackTrace(err);
        }
        err.flush();
    }

    private static void printUsage(PrintStream stream) {
        stream.println("usage: java -jar skipllm.jar <command> [options]   (--debug adds stack traces to errors)");
        for (Command c : COMMANDS.values()) {
            stream.println("  " + c.usage());
        }
    }
}
