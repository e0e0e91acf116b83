package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javax.inject.Inject;
import org.apache.karaf.features.BootFinished;
import org.apache.karaf.features.FeaturesService;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.console.ConsoleCommand;

/**
 * Issue 15's hot deploy: in a running Spanker Karaf, installing the searching planner's feature makes {@code plan}
 * answer with searched plans and enables {@code plan --compare}; uninstalling it hands planning back to the per-block
 * planner, while threads keep planning throughout. No call may fail, and every plan comes from exactly one of the two.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PlanSearchHotDeployTest {
    private static final String SEARCH_FEATURE = "spanker-strategy-search";
    private static final String SEARCH_BUNDLE = "org.popsolutions.spanker.strategy.search";
    private static final String VERSION_PROPERTY = "spanker.version";
    private static final int CALLERS = 3;
    private static final long WAIT_MILLIS = 60_000;

    @Inject
    private BundleContext context;

    @Inject
    private FeaturesService features;

    /** Karaf's boot features install asynchronously and would overwrite a feature installed before they finish. */
    @Inject
    private BootFinished bootFinished;

    @Configuration
    public Option[] configuration() throws IOException {
        return SpankerContainer.options(
                systemProperty(VERSION_PROPERTY).value(SpankerContainer.requiredProperty(VERSION_PROPERTY)));
    }

    @Test
    public void installingTheSearchFeatureSwapsThePlannerAndUninstallingItSwapsBack() throws Exception {
        String version = System.getProperty(VERSION_PROPERTY);
        Path carried = Path.of(System.getProperty("karaf.home"), "system", "org", "popsolutions", "spanker",
                SEARCH_BUNDLE, version, SEARCH_BUNDLE + "-" + version + ".jar");
        assertTrue(carried + " is in the distribution's system repository", Files.isRegularFile(carried));
        assertFalse("not a boot feature", features.isInstalled(features.getFeature(SEARCH_FEATURE)));

        Path model = Path.of(System.getProperty("karaf.data"), "plan-search-tiny.gguf");
        command("model-synth").execute(List.of("--preset", "tiny", "--type", "Q4_0", "--out", model.toString()));
        ConsoleCommand plan = command("plan");
        List<String> planArguments = List.of("--model", model.toString(), "--cards", "4", "--json");
        List<String> compareArguments = List.of("--model", model.toString(), "--cards", "4", "--compare", "--json");
        await("plans by bandwidth", () -> "bandwidth".equals(strategyOf(plan, planArguments)));
        try {
            plan.execute(compareArguments);
            fail("plan --compare without the searching planner must say it is not installed");
        } catch (InvalidConfigurationException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(SEARCH_FEATURE));
        }

        Callers callers = new Callers(plan, planArguments);
        boolean removed = false;
        try {
            await("plans by bandwidth before the swap", () -> callers.answeredBy("bandwidth") > 0);
            features.installFeature(SEARCH_FEATURE);
            await("plans by search", () -> "search".equals(strategyOf(plan, planArguments)));
            await("callers get plans by search", () -> callers.answeredBy("search") > 0);

            JsonObject comparison = JsonParser.parseString(plan.execute(compareArguments).json()).getAsJsonObject();
            double chosen = comparison.getAsJsonObject("chosen").get("predictedSecondsPerToken").getAsDouble();
            JsonArray baselines = comparison.getAsJsonArray("baselines");
            List<String> names = new ArrayList<>();
            for (int i = 0; i < baselines.size(); i++) {
                JsonObject b = baselines.get(i).getAsJsonObject();
                names.add(b.get("name").getAsString());
                assertTrue(b + " costs no less than the chosen plan",
                        b.get("predictedSecondsPerToken").getAsDouble() >= chosen * (1 - 1e-12)
                                || b.get("name").getAsString().equals("per-block"));
            }
            assertEquals(List.of("even-layers", "memory-ring", "tensor-parallel", "per-block"), names);

            features.uninstallFeature(SEARCH_FEATURE);
            removed = true;
            await("plans by bandwidth again", () -> "bandwidth".equals(strategyOf(plan, planArguments)));
            long before = callers.answeredBy("bandwidth");
            await("callers get plans by bandwidth after the swap back", () -> callers.answeredBy("bandwidth") > before);
        } finally {
            callers.stop();
            if (!removed) {
                try {
                    features.uninstallFeature(SEARCH_FEATURE);
                } catch (Exception e) {
                    // never installed; the original failure is the one to see
                }
            }
        }
        System.out.println("planner hot swap under load: " + callers.summary());
        assertEquals("calls that failed: " + callers.failures, 0, callers.failureCount.get());
        assertEquals("plans by neither planner: " + callers.answers, 2, callers.answers.size());
        assertTrue(features.isInstalled(features.getFeature("spanker")));
    }

    private ConsoleCommand command(String name) throws Exception {
        ServiceReference<?>[] found = new ServiceReference<?>[1];
        await("the " + name + " command service", () -> {
            try {
                found[0] = context.getServiceReferences(ConsoleCommand.class, "(" + ConsoleCommand.NAME + "=" + name
                        + ")").stream().findFirst().orElse(null);
            } catch (InvalidSyntaxException e) {
                throw new IllegalArgumentException(e);
            }
            return found[0] != null;
        });
        return (ConsoleCommand) context.getService(found[0]);
    }

    private static String strategyOf(ConsoleCommand plan, List<String> arguments) {
        return JsonParser.parseString(plan.execute(arguments).json()).getAsJsonObject().get("strategy").getAsString();
    }

    private static void await(String what, BooleanSupplier condition) throws Exception {
        KarafShell.await(what, WAIT_MILLIS, 50, condition::getAsBoolean);
    }

    /** Threads planning in a loop, tallying which planner answered and which calls threw. */
    private static final class Callers {
        final Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
        final AtomicLong failureCount = new AtomicLong();
        final Queue<String> failures = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final ExecutorService threads = Executors.newFixedThreadPool(CALLERS, r -> {
            Thread thread = new Thread(r, "plan-caller");
            thread.setDaemon(true);
            return thread;
        });

        Callers(ConsoleCommand plan, List<String> arguments) {
            for (int i = 0; i < CALLERS; i++) {
                threads.execute(() -> {
                    while (running.get()) {
                        try {
                            String strategy = strategyOf(plan, arguments);
                            answers.computeIfAbsent(strategy, s -> new AtomicLong()).incrementAndGet();
                        } catch (Throwable e) {
                            if (failureCount.incrementAndGet() <= 5) {
                                failures.add(e.toString());
                            }
                        }
                    }
                });
            }
        }

        long answeredBy(String strategy) {
            AtomicLong count = answers.get(strategy);
            return count == null ? 0 : count.get();
        }

        String summary() {
            return "plans by planner " + answers + ", failures " + failureCount;
        }

        void stop() throws InterruptedException {
            running.set(false);
            threads.shutdown();
            if (!threads.awaitTermination(WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                threads.shutdownNow();
                throw new AssertionError("plan callers still running after being stopped");
            }
        }
    }
}
