package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;

/**
 * Boots the Spanker Karaf distribution built by the reactor, checks it runs on Felix, makes sure the
 * {@code spanker} feature is installed, and runs {@code spanker:topology} and {@code spanker:pick} through a
 * Karaf console session, as a user would type them.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SpankerKarafTest {
    /** How long the spanker:* commands may take to appear after the feature's bundles start. */
    private static final long COMMANDS_READY_MILLIS = 60_000;
    private static final String GOLDEN_PROPERTY = "spanker.golden";
    private static final String OUTPUT_PROPERTY = "spanker.test.output";

    @Inject
    private BundleContext context;

    @Inject
    private FeaturesService features;

    @Inject
    private SessionFactory sessions;

    @Configuration
    public Option[] configuration() throws IOException {
        Path golden = Path.of(SpankerContainer.requiredProperty(GOLDEN_PROPERTY)).toAbsolutePath().normalize();
        assertTrue("the golden models (../shared/golden beside the repository) at " + golden,
                java.nio.file.Files.isDirectory(golden.resolve("model")));
        return SpankerContainer.options(systemProperty(GOLDEN_PROPERTY).value(golden.toString()),
                systemProperty(OUTPUT_PROPERTY).value(Path.of("target").toAbsolutePath().toString()));
    }

    @Test
    public void frameworkIsFelix() {
        Bundle systemBundle = context.getBundle(0);
        assertEquals("org.apache.felix.framework", systemBundle.getSymbolicName());
        assertEquals("Apache Software Foundation", context.getProperty(Constants.FRAMEWORK_VENDOR));
    }

    @Test
    public void spankerFeatureIsInstalled() throws Exception {
        assertTrue("the spanker feature is installed", features.isInstalled(features.getFeature("spanker")));
    }

    @Test
    public void topologyIsTheDefaultRingOfFourCards() throws Exception {
        JsonObject topology = JsonParser.parseString(run("spanker:topology --json")).getAsJsonObject();
        assertEquals("ring", topology.get("kind").getAsString());
        JsonArray cards = topology.getAsJsonArray("cards");
        assertEquals(4, cards.size());
        for (int i = 0; i < 4; i++) {
            JsonObject card = cards.get(i).getAsJsonObject();
            assertEquals(i, card.get("index").getAsInt());
            assertEquals("mock" + i, card.get("name").getAsString());
            assertEquals("mock", card.get("provider").getAsString());
        }
        JsonArray links = topology.getAsJsonArray("links");
        assertEquals(8, links.size());
        Set<String> pairs = new HashSet<>();
        for (JsonElement element : links) {
            JsonObject link = element.getAsJsonObject();
            assertEquals("UP", link.get("state").getAsString());
            int from = link.get("from").getAsInt();
            int to = link.get("to").getAsInt();
            assertTrue(from + "->" + to + " joins ring neighbours", (from - to + 4) % 4 == 1 || (to - from + 4) % 4 == 1);
            pairs.add(from + "->" + to);
        }
        assertEquals("each directed link once", 8, pairs.size());
    }

    @Test
    public void topologyTableShowsTheRing() throws Exception {
        String table = run("spanker:topology");
        assertTrue(table, table.contains("ring"));
        assertTrue(table, table.contains("mock3"));
    }

    @Test
    public void pickChoosesModelParallelForTheTinyLlamaTile() throws Exception {
        JsonObject pick = JsonParser.parseString(
                run("spanker:pick --m 1 --n 5632 --k 2048 --bpe 2 --cards 4 --json")).getAsJsonObject();
        assertEquals("ModelParallel", pick.get("strategy").getAsString());
        // SPEC §3 with the default bandwidths: TP = 4096/(4*2e9) + 11264/5e8, MP = 4096/2e9 + 11264/(4*5e8)
        assertClose(2.304e-5, pick.get("tpSeconds").getAsDouble());
        assertClose(7.68e-6, pick.get("mpSeconds").getAsDouble());
    }

    @Test
    public void aBadCommandLineIsAOneLineErrorNotAStackTrace() throws Exception {
        try {
            run("spanker:pick --m x --n 1 --k 1");
            fail("a malformed --m must fail");
        } catch (Exception e) {
            assertEquals("org.apache.karaf.shell.support.CommandException", e.getClass().getName());
            assertTrue(e.getMessage(), e.getMessage().startsWith("spanker:pick: option --m must be"));
            assertEquals(e.getMessage(), 1, e.getMessage().lines().count());
        }
    }

    @Test
    public void planLaysTheGoldenModelOverTheFourMockCards() throws Exception {
        JsonObject plan = JsonParser.parseString(run("spanker:plan --model " + goldenModel("q8_0") + " --json"))
                .getAsJsonObject();
        assertEquals("bandwidth", plan.get("strategy").getAsString());
        assertEquals(4, plan.get("cards").getAsInt());
        assertEquals(2, plan.getAsJsonArray("layers").size());
        assertTrue(plan.get("secondsPerToken").getAsDouble() > 0);
    }

    @Test
    public void logitsOfTheGoldenModelMatchLlamaCpp() throws Exception {
        Path out = Path.of(System.getProperty(OUTPUT_PROPERTY), "karaf-logits.f32");
        run("spanker:logits --model " + goldenModel("q8_0") + " --tokens 1,5,9,42 --out " + out);
        float[] got = floats(out);
        float[] expected = floats(Path.of(System.getProperty(GOLDEN_PROPERTY), "model", "logits",
                "tiny-llama-q8_0.llamacpp.incr.kvf32.f32"));
        assertEquals(4 * 512, got.length);
        for (int i = 0; i < got.length; i++) {
            // golden README: a ggml-style implementation is within 0.1 of llama.cpp
            assertEquals("logit " + i, expected[i], got[i], 0.1f);
        }
    }

    @Test
    public void runGeneratesTokensAcrossTheCards() throws Exception {
        JsonObject result = JsonParser.parseString(
                run("spanker:run --model " + goldenModel("q8_0") + " --tokens 1,5,9 --n 3 --json")).getAsJsonObject();
        assertEquals(3, result.getAsJsonArray("tokens").size());
        assertTrue(result.getAsJsonObject("timing").get("tokensPerSecond").getAsDouble() > 0);
    }

    private static String goldenModel(String type) {
        return Path.of(System.getProperty(GOLDEN_PROPERTY), "model", "tiny-llama-" + type + ".gguf").toString();
    }

    private static float[] floats(Path file) throws IOException {
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(values);
        return values;
    }

    /** Runs one command line in a fresh console session and returns what it printed. */
    private String run(String commandLine) throws Exception {
        awaitSpankerCommands();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            Session session = sessions.create(new ByteArrayInputStream(new byte[0]), outStream, errStream);
            try {
                session.execute(commandLine);
            } finally {
                session.close();
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The feature's bundles start asynchronously; wait (bounded) until the shell knows the commands. */
    private void awaitSpankerCommands() throws Exception {
        if (!features.isInstalled(features.getFeature("spanker"))) {
            features.installFeature("spanker");
        }
        long deadline = System.currentTimeMillis() + COMMANDS_READY_MILLIS;
        while (sessions.getRegistry().getCommand("spanker", "topology") == null
                || sessions.getRegistry().getCommand("spanker", "pick") == null) {
            if (System.currentTimeMillis() > deadline) {
                fail("spanker:topology and spanker:pick did not appear in the Karaf shell");
            }
            Thread.sleep(100);
        }
    }

    private static void assertClose(double expected, double actual) {
        assertEquals(expected, actual, Math.abs(expected) * 1e-9);
    }
}
