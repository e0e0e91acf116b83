package org.popsolutions.spanker.console.internal;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.CostedPlan;
import org.popsolutions.spanker.api.plan.PlanComparison;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.InferenceService;
import org.popsolutions.spanker.api.runtime.Sampling;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.topology.Card;

/**
 * {@code plan --compare --measure N}: every plan of the comparison that fits is placed on the registered cards (e.g.
 * a paced fleet, {@code --device sails}) and decodes N tokens after max(2, N/2) unmeasured ones; its measured seconds
 * per token go beside the prediction. Optimised for prefill, each plan instead processes N prompts of the comparison's
 * prompt length after one unmeasured prompt, in the runtime's batched passes (as {@code run} feeds a prompt); the
 * mean prompt time goes beside the prefill prediction. Plans with the same layout are run once.
 */
final class PlanMeasurements {
    /**
     * Seconds per decoded token, or per prompt when {@code prefill}, by plan layout; a plan that does not fit is
     * absent.
     */
    record Measured(Map<String, Double> secondsPerToken, String cards, double dilation, boolean prefill) {
    }

    private PlanMeasurements() {
    }

    /** When the warm-up of a plan is over: tokens stopped getting faster. */
    static final class WarmUp {
        private WarmUp() {
        }

        /** At most this many warm-up tokens: the minimum, then up to 12 more while they still get faster. */
        static int limit(int minimum) {
            return minimum + 12;
        }

        /** The last of the first {@code count} tokens took no more than 5 % less than the one before it. */
        static boolean settled(long[] nanos, int count) {
            if (count < 2) {
                return false;
            }
            return nanos[count - 1] >= 0.95 * nanos[count - 2];
        }
    }

    static Measured measure(PlanComparison comparison, Path model, Topology cards, InferenceService inference,
            int tokens, int context) {
        return measure(comparison, model, cards, inference, tokens, context, false);
    }

    /** With {@code prefill}: {@code tokens} prompts of {@code comparison.promptTokens()} tokens each, after one. */
    static Measured measure(PlanComparison comparison, Path model, Topology cards, InferenceService inference,
            int tokens, int context, boolean prefill) {
        if (inference == null) {
            throw new InvalidConfigurationException("--measure runs the plans on cards, and no inference service is"
                    + " registered (the runtime bundle is not started)");
        }
        if (comparison.chosen().plan() != null && comparison.chosen().plan().cards() != cards.cardCount()) {
            throw new InvalidConfigurationException("--measure runs on the registered " + cards.cardCount()
                    + " cards; the plans are for " + comparison.chosen().plan().cards() + " (leave --cards out, or"
                    + " start that many: fleet start --cards " + comparison.chosen().plan().cards() + ")");
        }
        Map<String, Double> measured = new LinkedHashMap<>();
        // dilated cards run every modelled time K times slower than rev-A: measured times are divided by K
        double dilation = cards.cards().stream().mapToDouble(Card::timeDilation).max().orElse(1);
        java.util.List<CostedPlan> plans = new java.util.ArrayList<>();
        plans.add(comparison.chosen());
        plans.addAll(comparison.baselines());
        for (CostedPlan plan : plans) {
            if (plan.plan() == null || !plan.fits() || measured.containsKey(plan.layout())) {
                continue;
            }
            try (LoadedModel executor = inference.load(new ModelLoad(model, plan.plan(), cards, ActivationMode.GGML, 1,
                    context, CollectiveAlgorithm.AUTO))) {
                int vocabulary = executor.vocabulary();
                if (prefill) {
                    measured.put(plan.layout(), promptSeconds(executor, comparison.promptTokens(), tokens) / dilation);
                    continue;
                }
                // unmeasured tokens first: the cards' code and caches warm up. The first plan run pays for the
                // emulators' JIT, so a fixed count left it measured slow (TinyLlama on 2 cards: the chosen plan 1.11x
                // its prediction, the same layout but for the embedding 1.00x right after it): warm up until a token
                // takes no longer than the one before, within 5 %, and at least max(2, N/2) tokens
                int minimum = Math.max(2, tokens / 2);
                long[] warmUpNanos = new long[WarmUp.limit(minimum)];
                int warmUp = 0;
                while (warmUp < warmUpNanos.length) {
                    long t0 = System.nanoTime();
                    executor.logits(1 + warmUp % (vocabulary - 1), warmUp % context);
                    warmUpNanos[warmUp] = System.nanoTime() - t0;
                    warmUp++;
                    if (warmUp >= minimum && WarmUp.settled(warmUpNanos, warmUp)) {
                        break;
                    }
                }
                long begin = System.nanoTime();
                for (int t = warmUp; t < warmUp + tokens; t++) {
                    executor.logits(1 + t % (vocabulary - 1), t % context);
                }
                measured.put(plan.layout(), (System.nanoTime() - begin) / 1e9 / tokens / dilation);
            }
        }
        String providers = String.join(", ", cards.cards().stream().map(Card::provider).distinct().toList());
        String times = dilation == Math.rint(dilation) ? Long.toString((long) dilation) : Double.toString(dilation);
        return new Measured(measured, cards.cardCount() + " cards of provider '" + providers + "'" + (dilation == 1 ? ""
                : " dilated x" + times + " (measured times divided by " + times + ", the host's per-token work too)"),
                dilation, prefill);
    }

    /**
     * The mean wall time of {@code count} prompts of {@code length} tokens, each from position 0 in the runtime's
     * batched passes, after one unmeasured prompt (the emulators' batched kernels warm up); one token is sampled
     * after each and not fed back.
     */
    static double promptSeconds(LoadedModel executor, int length, int count) {
        int vocabulary = executor.vocabulary();
        if (length > executor.contextLength()) {
            throw new InvalidConfigurationException("a prompt of " + length + " tokens exceeds the context of "
                    + executor.contextLength() + " (give --context at least --prompt)");
        }
        int[] prompt = new int[length];
        for (int i = 0; i < length; i++) {
            prompt[i] = 1 + i % (vocabulary - 1);
        }
        GenerationRequest request = new GenerationRequest(prompt, 1, Sampling.GREEDY);
        executor.generate(request, null);
        long nanos = 0;
        for (int i = 0; i < count; i++) {
            nanos += executor.generate(request, null).prompt().wallNanos();
        }
        return nanos / 1e9 / count;
    }
}
