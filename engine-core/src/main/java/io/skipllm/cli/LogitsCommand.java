package io.skipllm.cli;

import io.skipllm.model.DecodeSession;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.Model;
import io.skipllm.planner.RetainedLayers;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code logits --model DIR --prompt-ids I,J,K [--decode-ids A,B] [--strategy S] [--speedup R | --retained LIST]}:
 * prefills the prompt at full depth, feeds each decode id through the skip path, and prints every row
 * of logits. The numbers the reference fixtures are checked against.
 */
final class LogitsCommand implements Command {

    @Override
    public String name() {
        return "logits";
    }

    @Override
    public String usage() {
        return "logits --model DIR --prompt-ids I,J,K [--decode-ids A,B] [--strategy S] [--speedup R | --retained 0,3,6] [--weights stored|f32|bf16|f16|q8_0|q4_0]";
    }

    @Override
    public void run(String[] argv, PrintStream out, PrintStream err) {
        Set<String> valued = new java.util.HashSet<>(SkipOptions.NAMES);
        valued.addAll(Set.of("model", ModelLoading.WEIGHTS, ModelLoading.BACKEND, "prompt-ids", "decode-ids"));
        Args args = Args.parse(name(), argv, valued, Set.of("debug"));
        int[] prompt = args.intList("prompt-ids");
        if (prompt == null) {
            args.required("prompt-ids");
        }
        int[] decodeIds = args.intList("decode-ids");
        if (decodeIds == null) {
            decodeIds = new int[0];
        }
        String dir = args.required("model");
        LoadOptions loadOptions = ModelLoading.options(args);

        try (Model model = Model.fromSpec(dir, loadOptions)) {
            RetainedLayers retained = SkipOptions.resolve(args, model.config().numLayers());
            float[][] rows = new float[1 + decodeIds.length][];
            try (DecodeSession session = model.decoder().start(new int[][] {prompt}, decodeIds.length, retained)) {
                rows[0] = row(session.logits());
                for (int k = 0; k < decodeIds.length; k++) {
                    rows[k + 1] = row(session.decode(new int[] {decodeIds[k]}));
                }
                err.printf("retained %d of %d layers %s; KV cache %d bytes%n", retained.size(),
                        model.config().numLayers(), retained, session.cache().bytes());
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("retained", retained.indices());
            json.put("logits", rows);
            out.println(Json.line(json));
        }
    }

    private static float[] row(INDArray logits) {
        return logits.getRow(0).toFloatVector();
    }
}
