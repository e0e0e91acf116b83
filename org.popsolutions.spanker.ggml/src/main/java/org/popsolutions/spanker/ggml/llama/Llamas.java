package org.popsolutions.spanker.ggml.llama;

import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.kernel.DotMode;

/** Shortcuts for running a model without a planner or collectives. */
public final class Llamas {
    private Llamas() {
    }

    /** The plain forward pass: everything on one card, the model's whole context in its KV cache. */
    public static ShardedLlama singleCard(GgufFile file, DotMode mode, int threads) {
        LlamaConfig config = LlamaConfig.of(file);
        Topology one = new Topology(TopologyKind.RING, java.util.List.of(new Card(0, "host0", "host", 0)),
                java.util.List.of());
        return new ShardedLlama(file, ManualPlans.singleCard(GgufModelReader.shapeOf(file), config.contextLength()),
                one, null, new ShardedLlama.Options(mode, threads, config.contextLength(), CollectiveAlgorithm.AUTO));
    }
}
