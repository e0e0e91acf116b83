package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.replaceConfigurationFile;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.inject.Inject;
import javax.security.auth.Subject;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.features.BootFinished;
import org.apache.karaf.features.FeaturesService;
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
    private static final String ADMIN_PASSWORD_PROPERTY = "spanker.test.admin.password";
    /** The roles of the group the first start puts admin in (etc/users.properties). */
    private static final Set<String> ADMIN_ROLES = Set.of("group", "admin", "manager", "viewer", "systembundles", "ssh");
    private static final Set<String> VIEWER_ROLES = Set.of("viewer", "ssh");

    @Inject
    private BundleContext context;

    @Inject
    private FeaturesService features;

    /** Karaf's boot features install asynchronously and would overwrite a feature installed before they finish. */
    @Inject
    private BootFinished bootFinished;

    @Inject
    private SessionFactory sessions;

    @Configuration
    public Option[] configuration() throws IOException {
        Path golden = Path.of(SpankerContainer.requiredProperty(GOLDEN_PROPERTY)).toAbsolutePath().normalize();
        assertTrue("the golden models (../shared/golden beside the repository) at " + golden,
                java.nio.file.Files.isDirectory(golden.resolve("model")));
        FirstStartPassword firstStart;
        try {
            firstStart = FirstStartPassword.create(SpankerContainer.requiredProperty("spanker.distribution"),
                    Path.of("target", "first-start"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return SpankerContainer.options(systemProperty(GOLDEN_PROPERTY).value(golden.toString()),
                systemProperty(OUTPUT_PROPERTY).value(Path.of("target").toAbsolutePath().toString()),
                // etc/users.properties as the first bin/start leaves it, and the password it printed
                replaceConfigurationFile("etc/users.properties", firstStart.usersFile().toFile()),
                systemProperty(ADMIN_PASSWORD_PROPERTY).value(firstStart.password()));
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

    /**
     * {@code help spanker} lists the scope's commands. The console's {@code help} is an alias that pipes Karaf's
     * {@code *:help} into {@code more}, which prints nothing without a terminal, so the test calls it directly.
     */
    @Test
    public void helpSpankerListsTheCommands() throws Exception {
        awaitSpankerCommands();
        String help = run("*:help spanker").replaceAll("\u001B\\[[0-9;]*m", "");
        assertTrue(help, help.contains("COMMANDS"));
        for (String command : List.of("topology", "pick", "plan", "run", "logits", "bench-collective", "commands")) {
            assertTrue(command + " in: " + help, help.matches("(?s).*\\b(spanker:)?" + command + "\\s.*"));
        }
        String listed = run("spanker:commands");
        assertTrue(listed, listed.contains("spanker:pick") && listed.contains("spanker:topology"));
    }

    @Test
    public void metricsCountCollectivesAndLinkBytesAndShowThemInJmxAndPrometheusText() throws Exception {
        awaitSpankerCommands();
        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        javax.management.ObjectName name = new javax.management.ObjectName("org.popsolutions.spanker:type=Metrics");
        long deadline = System.currentTimeMillis() + COMMANDS_READY_MILLIS;
        while (!server.isRegistered(name) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(4, server.getAttribute(name, "Cards"));
        assertEquals(8, server.getAttribute(name, "LinksUp"));
        long before = (Long) server.getAttribute(name, "Collectives");
        run("spanker:allreduce --buffers \"1,2;3,4;5,6;7,8\" --algo ring");
        assertEquals(before + 1, server.getAttribute(name, "Collectives"));
        javax.management.openmbean.CompositeData[] links =
                (javax.management.openmbean.CompositeData[]) server.getAttribute(name, "Links");
        assertEquals(8, links.length);
        long bytes = 0;
        for (javax.management.openmbean.CompositeData link : links) {
            assertEquals("UP", link.get("state"));
            bytes += (Long) link.get("bytes");
        }
        assertTrue("the ring AllReduce moved bytes over the links: " + bytes, bytes > 0);
        org.osgi.framework.ServiceReference<org.popsolutions.spanker.api.metrics.SpankerMetrics> reference =
                context.getServiceReference(org.popsolutions.spanker.api.metrics.SpankerMetrics.class);
        String text = context.getService(reference).prometheusText();
        assertTrue(text, text.contains("spanker_cards 4.0"));
        assertTrue(text, text.contains("spanker_collective_seconds_count{algorithm=\"RING\",kind=\"ALL_REDUCE\"}"));
        assertTrue(text, text.contains("spanker_link_bytes_total{local="));
    }

    @Test
    public void commandHelpHasKarafsLayoutWithTheScope() throws Exception {
        List<String> lines = run("spanker:plan --help").lines().toList();
        assertEquals("DESCRIPTION", lines.get(0));
        assertEquals("        spanker:plan", lines.get(1));
        assertTrue(lines.toString(), lines.contains("SYNTAX"));
        assertTrue(lines.toString(), lines.contains("        spanker:plan [options]"));
        assertTrue(lines.toString(), lines.contains("        --model"));
        assertEquals(run("spanker:plan --help").strip(), run("*:help spanker:plan").strip());
    }

    @Test
    public void aViewerReadsButNeitherReconfiguresNorWritesFiles() throws Exception {
        JsonObject topology = JsonParser.parseString(runAs(VIEWER_ROLES, "spanker:topology --json")).getAsJsonObject();
        assertEquals(4, topology.getAsJsonArray("cards").size());
        try {
            runAs(VIEWER_ROLES, "spanker:topology --cards 3");
            fail("a viewer must not reconfigure the cards");
        } catch (SecurityException e) {
            assertEquals("Insufficient credentials.", e.getMessage());
        }
        Path out = Path.of(System.getProperty(OUTPUT_PROPERTY), "viewer-logits.f32");
        try {
            runAs(VIEWER_ROLES, "spanker:logits --model " + goldenModel("q8_0") + " --tokens 1 --out " + out);
            fail("a viewer does not even see a command that writes files");
        } catch (Exception e) {
            assertEquals("org.apache.felix.gogo.runtime.CommandNotFoundException", e.getClass().getName());
        }
        assertTrue("nothing written", !java.nio.file.Files.exists(out));
        assertEquals("the cards stayed as they were", 4,
                JsonParser.parseString(run("spanker:topology --json")).getAsJsonObject().getAsJsonArray("cards").size());
    }

    @Test
    public void noWellKnownPasswordOnlyTheOneTheFirstStartPrinted() throws Exception {
        String password = System.getProperty(ADMIN_PASSWORD_PROPERTY);
        Subject admin = login("admin", password);
        assertTrue(admin.getPrincipals(RolePrincipal.class).stream().anyMatch(p -> p.getName().equals("admin")));
        assertLoginFails("admin", password + "x");
        assertLoginFails("karaf", "karaf");
        assertLoginFails("admin", "admin");
        Path users = Path.of(context.getProperty("karaf.etc"), "users.properties");
        List<String> userLines = java.nio.file.Files.readAllLines(users).stream().filter(FirstStartPassword::isUserLine)
                .toList();
        assertEquals(userLines.toString(), 1, userLines.size());
        assertTrue("stored as a digest: " + userLines,
                userLines.get(0).matches("admin = \\{CRYPT\\}[0-9a-fA-F]{64}\\{CRYPT\\},_g_:admingroup"));
        assertTrue("no clear-text password in the file", !java.nio.file.Files.readString(users).contains(password));
        assertTrue("Karaf keeps passwords as digests", java.nio.file.Files.readAllLines(
                Path.of(context.getProperty("karaf.etc"), "org.apache.karaf.jaas.cfg")).contains("encryption.enabled = true"));
    }

    @Test
    public void everyPidShipsAsAnEtcFileWithItsMetatypeDefaultsAndDescriptions() throws Exception {
        Path etc = Path.of(context.getProperty("karaf.etc"));
        int checked = 0;
        for (Bundle bundle : context.getBundles()) {
            if (!bundle.getSymbolicName().startsWith("org.popsolutions.spanker")) {
                continue;
            }
            java.util.Enumeration<java.net.URL> entries = bundle.findEntries("OSGI-INF/metatype", "*.xml", false);
            while (entries != null && entries.hasMoreElements()) {
                checked += MetatypeFiles.check(entries.nextElement(), etc);
            }
        }
        assertTrue("the mock cards, bandwidth, link and matmul PIDs at least: " + checked, checked >= 4);
    }

    private static Subject login(String user, String password) throws LoginException {
        LoginContext login = new LoginContext("karaf", callbacks -> {
            for (javax.security.auth.callback.Callback callback : callbacks) {
                if (callback instanceof NameCallback name) {
                    name.setName(user);
                } else if (callback instanceof PasswordCallback secret) {
                    secret.setPassword(password.toCharArray());
                }
            }
        });
        login.login();
        return login.getSubject();
    }

    private static void assertLoginFails(String user, String password) {
        try {
            login(user, password);
            fail(user + "/" + password + " must not log in");
        } catch (LoginException expected) {
            // refused, as it must be
        }
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

    /** Runs one command line as the first start's admin (every role of its group) and returns what it printed. */
    private String run(String commandLine) throws Exception {
        return runAs(ADMIN_ROLES, commandLine);
    }

    /**
     * Runs one command line in a fresh console session as a user with these roles (Karaf checks its command
     * ACLs against the roles of the calling subject) and returns what it printed.
     */
    private String runAs(Set<String> roles, String commandLine) throws Exception {
        awaitSpankerCommands();
        return KarafShell.as(roles, () -> KarafShell.inSession(sessions, commandLine, false, false));
    }

    /** The feature's bundles start asynchronously; wait (bounded) until the shell knows the commands. */
    private void awaitSpankerCommands() throws Exception {
        if (!features.isInstalled(features.getFeature("spanker"))) {
            features.installFeature("spanker");
        }
        KarafShell.await("spanker:topology and spanker:pick to appear in the Karaf shell", COMMANDS_READY_MILLIS, 100,
                () -> sessions.getRegistry().getCommand("spanker", "topology") != null
                        && sessions.getRegistry().getCommand("spanker", "pick") != null);
    }

    private static void assertClose(double expected, double actual) {
        assertEquals(expected, actual, Math.abs(expected) * 1e-9);
    }
}
