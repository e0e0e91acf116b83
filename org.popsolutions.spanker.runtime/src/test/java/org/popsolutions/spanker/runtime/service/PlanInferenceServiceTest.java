package org.popsolutions.spanker.runtime.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.runtime.FinishReason;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.GenerationResult;
import org.popsolutions.spanker.api.runtime.InferenceObserver;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.Sampling;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.runtime.TokenListener;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.model.llama.Sampler;
import org.popsolutions.spanker.runtime.Generation;
import org.popsolutions.spanker.runtime.Llamas;
import org.popsolutions.spanker.runtime.PlanExecutor;
import org.popsolutions.spanker.runtime.TestSupport;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

class PlanInferenceServiceTest {
    static final ScheduledCollectives ENGINE = TestSupport.engine();
    static final Path MODEL = GoldenModels.model("tiny-llama-q8_0.gguf");

    @AfterAll
    static void stop() {
        TestSupport.stop(ENGINE);
    }

    static LoadedModel fourCards(PlanInferenceService service) {
        GgufFile file = GgufReader.open(MODEL);
        int context = LlamaConfig.of(file).contextLength();
        Topology topology = TestSupport.topology(TopologyKind.RING, 4);
        Plan plan = ManualPlans.tensorParallel(GgufModelReader.shapeOf(file), 4, context);
        return service.load(new ModelLoad(MODEL, plan, topology, ActivationMode.GGML, 1, context,
                CollectiveAlgorithm.AUTO));
    }

    @Test
    void aLoadTellsHowManyOfTheWeightsBytesTheCardsHaveBeenSentUpToAllOfThem() {
        GgufFile file = GgufReader.open(MODEL);
        int context = LlamaConfig.of(file).contextLength();
        Topology topology = TestSupport.topology(TopologyKind.RING, 4);
        Plan plan = ManualPlans.tensorParallel(GgufModelReader.shapeOf(file), 4, context);
        List<long[]> told = new ArrayList<>();
        PlanInferenceService service = new PlanInferenceService(TestSupport.cards(), ENGINE);
        try (LoadedModel model = service.load(new ModelLoad(MODEL, plan, topology, ActivationMode.GGML, 1, context,
                CollectiveAlgorithm.AUTO), (sent, total) -> told.add(new long[] {sent, total}))) {
            assertTrue(told.size() > 4, "told after each chunk: " + told.size());
            long total = told.get(0)[1];
            long before = 0;
            for (long[] t : told) {
                assertEquals(total, t[1]);
                assertTrue(t[0] > before && t[0] <= total, t[0] + " after " + before + " of " + total);
                before = t[0];
            }
            assertEquals(total, before, "the last report is the whole");
            long modelBytes = MODEL.toFile().length();
            // every tensor of the file goes to some card (norms to every card of their group)
            assertTrue(total >= modelBytes * 9 / 10, total + " bytes sent of a " + modelBytes + "-byte model");
        }
    }

    @Test
    void tokensAreTheGenerationsOnOneCardAndEachIsToldAsItComes() {
        int[] prompt = {1, 5, 9, 42};
        List<Integer> expected;
        try (PlanExecutor one = Llamas.singleCard(TestSupport.cards(), GgufReader.open(MODEL), DotMode.GGML, 1)) {
            expected = Generation.generate(one, prompt, 6, Sampler.greedy(), 2, null);
        }
        List<TokenEvent> told = new ArrayList<>();
        List<TokenEvent> observed = new ArrayList<>();
        PlanInferenceService service = new PlanInferenceService(TestSupport.cards(), ENGINE);
        service.addObserver(new InferenceObserver() {
            @Override
            public void token(LoadedModel model, TokenEvent event) {
                observed.add(event);
            }
        });
        service.addObserver(new InferenceObserver() {
            @Override
            public void token(LoadedModel model, TokenEvent event) {
                throw new IllegalStateException("a broken observer does not end the generation");
            }
        });
        GenerationResult result;
        try (LoadedModel model = fourCards(service)) {
            assertTrue(model.loadSeconds() > 0);
            result = model.generate(new GenerationRequest(prompt, 6, Sampling.GREEDY), told::add);
            assertEquals(expected, result.tokens());
            assertEquals(model.detokenize(result.tokens()), result.text());
        }
        assertEquals(expected.size(), told.size());
        assertEquals(told, observed);
        StringBuilder pieces = new StringBuilder();
        for (int i = 0; i < told.size(); i++) {
            TokenEvent e = told.get(i);
            assertEquals(i, e.index());
            assertEquals(expected.get(i), e.token());
            assertTrue(e.measuredSeconds() > 0 && e.tokensPerSecond() > 0, e.toString());
            assertEquals(result.prompt().tokens() > 0 ? 0.0 : -1, e.predictedSeconds(), "a manual plan predicts nothing");
            pieces.append(e.text());
        }
        assertEquals(result.text(), pieces.toString(), "the pieces make the text");
        assertEquals(result.tokens().size() == 6 && !result.tokens().contains(2) ? FinishReason.LENGTH
                : FinishReason.STOP, result.finish());
        assertEquals(4, result.prompt().tokens());
    }

    @Test
    void aListenerCancelsBetweenPassesAndTheNextGenerationRuns() {
        PlanInferenceService service = new PlanInferenceService(TestSupport.cards(), ENGINE);
        try (LoadedModel model = fourCards(service)) {
            List<TokenEvent> told = new ArrayList<>();
            GenerationResult cancelled = model.generate(new GenerationRequest(new int[] {1, 5}, 50, Sampling.GREEDY),
                    new TokenListener() {
                        @Override
                        public void token(TokenEvent event) {
                            told.add(event);
                        }

                        @Override
                        public boolean cancelled() {
                            return told.size() >= 2;
                        }
                    });
            assertEquals(FinishReason.CANCELLED, cancelled.finish());
            assertEquals(2, cancelled.tokens().size());
            GenerationResult next = model.generate(new GenerationRequest(new int[] {1, 5}, 3, Sampling.GREEDY), null);
            assertEquals(cancelled.tokens(), next.tokens().subList(0, 2), "the same start: the caches were reused");
            assertThrows(BadDimsException.class, () -> model.generate(new GenerationRequest(new int[0], 1,
                    Sampling.GREEDY), null));
            assertThrows(BadDimsException.class, () -> model.generate(new GenerationRequest(new int[] {1},
                    model.contextLength() + 5, Sampling.GREEDY), null));
        }
    }

    @Test
    void oneGenerationAtATime() throws Exception {
        PlanInferenceService service = new PlanInferenceService(TestSupport.cards(), ENGINE);
        try (LoadedModel model = fourCards(service)) {
            CountDownLatch firstRunning = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread first = new Thread(() -> {
                try {
                    model.generate(new GenerationRequest(new int[] {1}, 2, Sampling.GREEDY), event -> {
                        firstRunning.countDown();
                        await(release);
                        order.add("first " + event.index());
                    });
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            first.start();
            assertTrue(firstRunning.await(60, TimeUnit.SECONDS), "safety net");
            Thread second = new Thread(() -> {
                try {
                    model.generate(new GenerationRequest(new int[] {1}, 1, Sampling.GREEDY),
                            event -> order.add("second"));
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            second.start();
            release.countDown();
            first.join(60_000);
            second.join(60_000);
            assertEquals(null, failure.get());
            assertEquals(List.of("first 0", "first 1", "second"), order);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
