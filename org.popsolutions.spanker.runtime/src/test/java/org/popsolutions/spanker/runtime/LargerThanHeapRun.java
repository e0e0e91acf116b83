package org.popsolutions.spanker.runtime;

import java.nio.file.Path;
import org.popsolutions.spanker.device.mock.MockCardProvider;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.kernel.DotMode;

/**
 * The child process of {@link LargerThanHeapTest}: runs a model on one mock card and prints its heap limit, then per
 * position the greedy token and the bits of the first logits, for the parent to compare with its own run.
 */
public final class LargerThanHeapRun {
    private LargerThanHeapRun() {
    }

    public static void main(String[] args) {
        System.out.println("maxHeap " + Runtime.getRuntime().maxMemory());
        GgufFile file = GgufReader.open(Path.of(args[0]));
        int positions = Integer.parseInt(args[1]);
        try (PlanExecutor executor = Llamas.singleCard(new MockCardProvider(), file, DotMode.GGML, 1)) {
            for (String line : LargerThanHeapTest.greedy(executor, positions)) {
                System.out.println(line);
            }
        }
    }
}
