package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * plan --measure warms a plan up until its tokens stop getting faster: the first plan of a table ran while the
 * emulators' code was still compiled and measured 1.11x its prediction, the same layout right after it 1.00x.
 */
class PlanMeasurementsTest {
    @Test
    void warmUpGoesOnWhileTokensGetFasterAndStopsOnceTheyDoNot() {
        long[] compiling = {900, 600, 400, 300, 250, 200};
        for (int count = 2; count <= compiling.length; count++) {
            assertFalse(PlanMeasurements.WarmUp.settled(compiling, count), "still faster at token " + count);
        }
        assertTrue(PlanMeasurements.WarmUp.settled(new long[] {900, 300, 298}, 3), "within 5 % of the one before");
        assertTrue(PlanMeasurements.WarmUp.settled(new long[] {900, 300, 330}, 3), "slower: no longer warming up");
        assertFalse(PlanMeasurements.WarmUp.settled(new long[] {900}, 1), "one token says nothing");
        assertEquals(14, PlanMeasurements.WarmUp.limit(2), "bounded: 12 tokens past the minimum");
    }

    /**
     * A measured prompt: one unmeasured prompt first, then the mean of the prompts' own pass times (what the runtime
     * reports for the prompt, not the sampled token), each a prompt of the asked length from token 1 on.
     */
    @Test
    void promptTimeIsTheMeanOfThePromptsAfterAnUnmeasuredOne() {
        java.util.List<int[]> prompts = new java.util.ArrayList<>();
        long[] nanos = {9_000_000_000L, 2_000_000_000L, 4_000_000_000L};
        org.popsolutions.spanker.api.runtime.LoadedModel model = (org.popsolutions.spanker.api.runtime.LoadedModel)
                java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                        new Class<?>[] {org.popsolutions.spanker.api.runtime.LoadedModel.class}, (proxy, method, args) ->
                                switch (method.getName()) {
                                    case "vocabulary" -> 100;
                                    case "contextLength" -> 64;
                                    case "generate" -> {
                                        int[] prompt = ((org.popsolutions.spanker.api.runtime.GenerationRequest) args[0])
                                                .prompt();
                                        prompts.add(prompt);
                                        yield new org.popsolutions.spanker.api.runtime.GenerationResult(
                                                java.util.List.of(7), "", null,
                                                new org.popsolutions.spanker.api.runtime.PassTimings(prompt.length,
                                                        nanos[prompts.size() - 1], new long[0], 0, 0),
                                                new org.popsolutions.spanker.api.runtime.PassTimings(0, 0, new long[0],
                                                        0, 0));
                                    }
                                    default -> throw new UnsupportedOperationException(method.getName());
                                });
        assertEquals(3.0, PlanMeasurements.promptSeconds(model, 40, 2), 1e-12, "(2 + 4) / 2 s; the 9 s one unmeasured");
        assertEquals(3, prompts.size());
        assertEquals(40, prompts.get(2).length);
        assertEquals(1, prompts.get(0)[0]);
        assertEquals(40, prompts.get(0)[39]);
        org.junit.jupiter.api.Assertions.assertThrows(org.popsolutions.spanker.api.InvalidConfigurationException.class,
                () -> PlanMeasurements.promptSeconds(model, 65, 1), "a prompt longer than the context");
    }
}
