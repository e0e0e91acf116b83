package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
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
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.ConsoleCommand;

/**
 * Issue 4's hot deploy: in a running Spanker Karaf, installing the latency strategy (by feature or by dropping
 * its jar into {@code deploy/}) makes it answer every pick, and removing it hands back to the bandwidth
 * strategy, with no restart of the pick command and while four threads keep asking it. No call may fail and
 * every answer must come from exactly one of the two strategies.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StrategyHotDeployTest {
    private static final String LATENCY_FEATURE = "spanker-strategy-latency";
    private static final String LATENCY_BUNDLE = "org.popsolutions.spanker.strategy.latency";
    private static final String LATENCY_JAR_PROPERTY = "spanker.latency.jar";
    private static final String VERSION_PROPERTY = "spanker.version";
    /**
     * A small decode tile on the default 4-card ring, where the two strategies disagree (docs/strategies.md):
     * bandwidth picks TensorParallel, latency picks ModelParallel. Each answer's choice must match its decidedBy.
     */
    private static final List<String> DECODE_TILE =
            List.of("--m", "1", "--n", "16", "--k", "1024", "--bpe", "2", "--cards", "4", "--json");
    private static final Map<String, String> CHOICE_BY_STRATEGY =
            Map.of("bandwidth", "TensorParallel", "latency", "ModelParallel");
    private static final int CALLERS = 4;
    /** Bound for each swap and for the first commands to register; a swap takes ~1-2 s (fileinstall polls 1 s). */
    private static final long WAIT_MILLIS = 30_000;

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
                systemProperty(LATENCY_JAR_PROPERTY).value(SpankerContainer.requiredProperty(LATENCY_JAR_PROPERTY)),
                systemProperty(VERSION_PROPERTY).value(SpankerContainer.requiredProperty(VERSION_PROPERTY)));
    }

    @Test
    public void featureInstallSwapsInTheLatencyStrategyAndUninstallSwapsItOut() throws Exception {
        // The distribution itself carries the bundle, so the feature installs on a machine without a Maven cache.
        String version = System.getProperty(VERSION_PROPERTY);
        Path carried = Path.of(System.getProperty("karaf.home"), "system", "org", "popsolutions", "spanker",
                LATENCY_BUNDLE, version, LATENCY_BUNDLE + "-" + version + ".jar");
        assertTrue(carried + " is in the distribution's system repository", Files.isRegularFile(carried));
        assertFalse("not a boot feature", features.isInstalled(features.getFeature(LATENCY_FEATURE)));

        hotSwap(() -> features.installFeature(LATENCY_FEATURE), () -> features.uninstallFeature(LATENCY_FEATURE));

        assertFalse(features.isInstalled(features.getFeature(LATENCY_FEATURE)));
        assertTrue(features.isInstalled(features.getFeature("spanker")));
    }

    @Test
    public void droppingTheJarIntoDeploySwapsInTheLatencyStrategyAndDeletingItSwapsItOut() throws Exception {
        Path jar = Path.of(System.getProperty(LATENCY_JAR_PROPERTY));
        assertTrue(jar + " (the latency bundle built by the reactor)", Files.isRegularFile(jar));
        Path deploy = Path.of(System.getProperty("karaf.base"), "deploy");
        assertTrue(deploy + " is Karaf's deploy folder", Files.isDirectory(deploy));
        Path deployed = deploy.resolve(LATENCY_BUNDLE + ".jar");
        // Written beside the deploy folder and moved in whole, so fileinstall never sees a half-copied jar.
        Path staging = Files.createTempDirectory(Path.of(System.getProperty("karaf.data")), "staging");

        hotSwap(() -> {
            Path staged = Files.copy(jar, staging.resolve(deployed.getFileName()));
            Files.move(staged, deployed, StandardCopyOption.ATOMIC_MOVE);
        }, () -> Files.delete(deployed));

        await("fileinstall uninstalls " + LATENCY_BUNDLE, () -> Arrays.stream(context.getBundles())
                .noneMatch(b -> LATENCY_BUNDLE.equals(b.getSymbolicName())));
        Files.delete(staging);
    }

    /**
     * From the bandwidth strategy answering, installs the latency strategy, waits until it answers, removes it
     * and waits until bandwidth answers again, while {@value #CALLERS} threads call the pick command throughout.
     */
    private void hotSwap(Step install, Step uninstall) throws Exception {
        ServiceReference<ConsoleCommand> pickReference = awaitCommand("pick");
        ConsoleCommand pick = context.getService(pickReference);
        long pickServiceId = serviceId(pickReference);
        ServiceReference<ConsoleCommand> strategyReference = awaitCommand("strategy");
        ConsoleCommand strategies = context.getService(strategyReference);
        awaitDecidedBy(pick, "bandwidth");
        assertEquals("bandwidth", activeStrategy(strategies));
        long bandwidthServiceId = activeProviderServiceId(strategies);

        PickCallers callers = PickCallers.start(pick, DECODE_TILE, CHOICE_BY_STRATEGY, CALLERS);
        boolean removed = false;
        try {
            await(() -> "the callers get answers from bandwidth before the swap; " + callers.summary(),
                    () -> callers.answeredBy("bandwidth") > 0);

            install.run();
            awaitDecidedBy(pick, "latency");
            // Not asserted at once: fileinstall may restart a bundle it just started (its refresh), and the
            // bandwidth strategy rightly answers in between.
            await("spanker:strategy shows latency active", () -> "latency".equals(activeStrategy(strategies)));
            await(() -> "the callers get answers from latency; " + callers.summary(),
                    () -> callers.answeredBy("latency") > 0);

            uninstall.run();
            removed = true;
            awaitDecidedBy(pick, "bandwidth");
            long bandwidthBeforeSwapBack = callers.answeredBy("bandwidth");
            await(() -> "the callers get answers from bandwidth after the swap back; " + callers.summary(),
                    () -> callers.answeredBy("bandwidth") > bandwidthBeforeSwapBack);
        } finally {
            callers.stop(WAIT_MILLIS);
            if (!removed) {
                // Leave the container as the other test expects it to start; the original failure is the one to see.
                try {
                    uninstall.run();
                } catch (Exception | AssertionError e) {
                    // already gone or never installed
                }
            }
        }

        System.out.println("hot swap under load: " + callers.summary());
        assertEquals("calls that failed: " + callers.failures(), 0, callers.failureCount());
        assertEquals("answers not from exactly one of bandwidth/latency: " + callers.unexpected(), 0,
                callers.unexpectedCount());
        assertTrue(callers.summary(), callers.answeredBy("bandwidth") > 0 && callers.answeredBy("latency") > 0);

        // No restart: the same pick command instance under the same service, and the bandwidth strategy untouched.
        ServiceReference<ConsoleCommand> pickAfter = awaitCommand("pick");
        assertEquals("pick command service id", pickServiceId, serviceId(pickAfter));
        assertSame("pick command instance", pick, context.getService(pickAfter));
        context.ungetService(pickAfter);
        assertEquals("bandwidth", activeStrategy(strategies));
        assertEquals("bandwidth strategy service id", bandwidthServiceId, activeProviderServiceId(strategies));
        context.ungetService(strategyReference);
        context.ungetService(pickReference);
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private ServiceReference<ConsoleCommand> awaitCommand(String name) throws Exception {
        ServiceReference<ConsoleCommand>[] found = new ServiceReference[1];
        await("the " + name + " command service", () -> {
            found[0] = command(name);
            return found[0] != null;
        });
        return found[0];
    }

    private ServiceReference<ConsoleCommand> command(String name) {
        try {
            return context.getServiceReferences(ConsoleCommand.class, "(" + ConsoleCommand.NAME + "=" + name + ")")
                    .stream().findFirst().orElse(null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static void awaitDecidedBy(ConsoleCommand pick, String strategy) throws Exception {
        await("pick decided by " + strategy, () -> strategy.equals(decision(pick.execute(DECODE_TILE)).get("decidedBy")
                .getAsString()));
    }

    private static String activeStrategy(ConsoleCommand strategies) {
        return decision(strategies.execute(List.of("--json"))).get("active").getAsString();
    }

    private static long activeProviderServiceId(ConsoleCommand strategies) {
        return decision(strategies.execute(List.of("--json"))).getAsJsonArray("providers").get(0).getAsJsonObject()
                .get("serviceId").getAsLong();
    }

    private static JsonObject decision(CommandResult result) {
        return JsonParser.parseString(result.json()).getAsJsonObject();
    }

    private static long serviceId(ServiceReference<?> reference) {
        return (Long) reference.getProperty(Constants.SERVICE_ID);
    }

    /** Polls {@code condition} every 50 ms for at most {@link #WAIT_MILLIS}; fails with {@code what} after that. */
    private static void await(String what, BooleanSupplier condition) throws Exception {
        KarafShell.await(what, WAIT_MILLIS, 50, condition::getAsBoolean);
    }

    private static void await(Supplier<String> what, BooleanSupplier condition) throws Exception {
        KarafShell.await(what, WAIT_MILLIS, 50, condition::getAsBoolean);
    }
}
