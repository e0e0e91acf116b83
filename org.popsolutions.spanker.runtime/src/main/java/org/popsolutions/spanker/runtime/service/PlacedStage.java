package org.popsolutions.spanker.runtime.service;

import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.collective.CardCollectives;
import org.popsolutions.spanker.api.runtime.LoadedStage;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.PipelineStage;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.runtime.PlanExecutor;

/** One pipeline stage on its cards behind the service interface: one forward pass at a time. */
final class PlacedStage implements LoadedStage {
    private final PlanExecutor executor;
    private final PipelineStage stage;
    private final String provider;

    private PlacedStage(PlanExecutor executor, PipelineStage stage, String provider) {
        this.executor = executor;
        this.stage = stage;
        this.provider = provider;
    }

    static PlacedStage load(ModelLoad request, PipelineStage stage, CardProvider cards, CardCollectives collectives) {
        if (request.plan().cards() != request.topology().cardCount()) {
            throw new InvalidConfigurationException("the stage's plan is for " + request.plan().cards()
                    + " cards and its topology has " + request.topology().cardCount());
        }
        GgufFile file = GgufReader.open(request.model());
        CardGroup group = cards.open(new CardGroupSpec(request.topology(), null, request.threadsPerCard()));
        // the executor closes the group itself when it cannot be built
        PlanExecutor executor = new PlanExecutor(file, request.plan(), group, collectives, new PlanExecutor.Options(
                request.mode() == ActivationMode.FLOAT ? DotMode.FLOAT : DotMode.GGML, request.threadsPerCard(),
                request.contextLength(), request.algorithm()),
                new PlanExecutor.Stage(stage.firstBlock(), stage.endBlock(), stage.embeds(), stage.head()));
        return new PlacedStage(executor, stage, cards.name());
    }

    @Override
    public PipelineStage stage() {
        return stage;
    }

    @Override
    public String cardProvider() {
        return provider;
    }

    @Override
    public int inputs() {
        return stage.embeds() ? 0 : executor.config().embedding();
    }

    @Override
    public int outputs() {
        return stage.head() ? executor.config().vocabulary() : executor.config().embedding();
    }

    @Override
    public synchronized void forward(int token, int position, float[] hiddenIn, float[] out) {
        executor.forwardStage(token, position, hiddenIn, out);
    }

    @Override
    public long[] weightBytesPerCard() {
        return executor.weightBytesPerCard();
    }

    @Override
    public long[] kvCacheBytesPerCard() {
        return executor.kvCacheBytesPerCard();
    }

    @Override
    public synchronized void close() {
        executor.close();
    }
}
