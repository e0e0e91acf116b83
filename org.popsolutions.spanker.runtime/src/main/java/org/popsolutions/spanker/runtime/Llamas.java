package org.popsolutions.spanker.runtime;

import java.util.List;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.ManualPlans;

/** Shortcuts for running a model without a planner or collectives. */
public final class Llamas {
    private Llamas() {
    }

    /**
     * The plain forward pass: everything on one card of {@code provider} with room for the whole model, the model's
     * whole context in its KV cache.
     */
    public static PlanExecutor singleCard(CardProvider provider, GgufFile file, DotMode mode, int threads) {
        LlamaConfig config = LlamaConfig.of(file);
        Topology one = new Topology(TopologyKind.RING, List.of(new Card(0, "host0", provider.name(), Long.MAX_VALUE)),
                List.of());
        return new PlanExecutor(file, ManualPlans.singleCard(GgufModelReader.shapeOf(file), config.contextLength()),
                one, provider, null, new PlanExecutor.Options(mode, threads, config.contextLength(),
                        CollectiveAlgorithm.AUTO));
    }
}
