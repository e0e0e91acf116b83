package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.inject.Inject;
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

/**
 * Issue 9 in Karaf: the mock cards and emulated Sails cards swap at run time, the way an operator does it. The
 * distribution's own emulator jars (lib/emulator) run two card processes ({@code spanker:fleet start}); enabling
 * the installed spanker-device-sails feature by configuration turns the topology into those two cards (the mock
 * stands aside), a collective and the main job run on them with the mock's tokens, disabling it brings the four
 * mock cards back, and uninstalling the feature leaves the mock in place. The fleet is stopped in every case.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SailsSwapTest {
    private static final String FEATURE = "spanker-device-sails";
    private static final String PID = "org.popsolutions.spanker.device.sails";
    private static final long WAIT_MILLIS = 60_000;

    @Inject
    private FeaturesService features;

    /** Karaf's boot features install asynchronously and would overwrite a feature installed before they finish. */
    @Inject
    private BootFinished bootFinished;

    @Inject
    private SessionFactory sessions;

    @Configuration
    public Option[] configuration() throws Exception {
        Path fleet = Files.createDirectories(Path.of("target", "sails-swap-fleet").toAbsolutePath());
        return SpankerContainer.options(systemProperty("spanker.fleet.dir").value(fleet.toString()));
    }

    @Test
    public void mockAndEmulatedCardsSwapWhileKarafRuns() throws Exception {
        await("the spanker commands", () -> sessions.getRegistry().getCommand("spanker", "run") != null
                && sessions.getRegistry().getCommand("spanker", "topology") != null);
        List<Integer> mockTokens = tokens(output("spanker:run --n 4 --cards 2 --json"));
        assertEquals(List.of("mock", "mock", "mock", "mock"), providers());

        configure("false");
        features.installFeature(FEATURE);
        assertTrue("installed: " + features.listRequirements(),
                features.listRequirements().toString().contains("feature:" + FEATURE + "/"));
        await("the fleet command", () -> sessions.getRegistry().getCommand("spanker", "fleet") != null);
        try {
            JsonObject started = JsonParser.parseString(output("spanker:fleet start --cards 2 --unshaped --json"))
                    .getAsJsonObject();
            assertEquals(started.toString(), 2, started.getAsJsonArray("cards").size());
            assertEquals("disabled: the mock still drives", List.of("mock", "mock", "mock", "mock"), providers());

            configure("true");
            await("the emulated cards in the topology", () -> providers().equals(List.of("sails", "sails")));
            JsonObject reduced = JsonParser.parseString(
                    output("spanker:allreduce --op avg --buffers \"1;3\" --algo ring --json")).getAsJsonObject();
            assertEquals("[[2.0],[2.0]]", reduced.get("cards").toString());
            assertEquals("the same greedy tokens on emulated cards", mockTokens,
                    tokens(output("spanker:run --n 4 --cards 2 --json")));

            configure("false");
            await("the mock cards back", () -> providers().equals(List.of("mock", "mock", "mock", "mock")));
            configure("true");
            await("the emulated cards again", () -> providers().equals(List.of("sails", "sails")));
        } finally {
            output("spanker:fleet stop --json");
        }
        features.uninstallFeature(FEATURE, features.getFeature(FEATURE).getVersion());
        assertFalse(features.isInstalled(features.getFeature(FEATURE)));
        await("the mock cards after the feature left", () -> providers().equals(List.of("mock", "mock", "mock", "mock")));
    }

    private void configure(String enabled) throws Exception {
        output("config:edit " + PID + "\nconfig:property-set enabled " + enabled + "\nconfig:update");
    }

    /** The provider of every card in the topology, in card order. */
    private List<String> providers() {
        try {
            JsonArray cards = JsonParser.parseString(output("spanker:topology --json")).getAsJsonObject()
                    .getAsJsonArray("cards");
            List<String> providers = new ArrayList<>();
            for (JsonElement card : cards) {
                providers.add(card.getAsJsonObject().get("provider").getAsString());
            }
            return providers;
        } catch (Exception e) {
            return List.of("unavailable: " + e.getMessage());
        }
    }

    private static List<Integer> tokens(String runJson) {
        List<Integer> tokens = new ArrayList<>();
        for (JsonElement token : JsonParser.parseString(runJson).getAsJsonObject().getAsJsonArray("tokens")) {
            tokens.add(token.getAsInt());
        }
        assertTrue(runJson, tokens.size() > 0);
        return tokens;
    }

    private static void await(String what, KarafShell.Condition condition) throws Exception {
        KarafShell.await(what, WAIT_MILLIS, 200, condition);
    }

    /** What the command lines printed, run one after the other in one session of an administrator. */
    private String output(String commandLines) throws Exception {
        return KarafShell.as(KarafShell.ADMIN_ROLES, () -> KarafShell.inSession(sessions, commandLines, true, false));
    }
}
