package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Issue 10 in Karaf: installing the spanker-driver-native feature starts the JNI bundle (its native library taken
 * from Bundle-NativeCode) and spanker:driver answers through a console session. No driver is loaded on a build
 * machine, so the answers are the clean errors: NoSails for a directory without spankerctl, and the ENOTTY of a
 * real ioctl on /dev/null, which only a loaded library can report.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DriverFeatureTest {
    private static final String FEATURE = "spanker-driver-native";
    private static final String BUNDLE = "org.popsolutions.spanker.driver.native";
    private static final long READY_MILLIS = 60_000;

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
    public Option[] configuration() throws Exception {
        return SpankerContainer.options();
    }

    @Test
    public void theFeatureInstallsAndTheDriverCommandGivesCleanErrors() throws Exception {
        assertFalse("not a boot feature", features.isInstalled(features.getFeature(FEATURE)));
        features.installFeature(FEATURE);
        awaitDriverCommand();
        Bundle bundle = bundle();
        assertEquals(Bundle.ACTIVE, bundle.getState());

        Path empty = Files.createTempDirectory(Path.of(System.getProperty("karaf.data")), "no-driver");
        String noDriver = failure("spanker:driver --dev " + empty);
        assertTrue(noDriver, noDriver.startsWith("spanker:driver: NoSails: no " + empty.resolve("spankerctl")
                + ": the spanker kernel driver is not loaded"));
        JsonObject error = JsonParser.parseString(output("spanker:driver --dev " + empty + " --json")).getAsJsonObject()
                .getAsJsonObject("error");
        assertEquals("NoSails", error.get("kind").getAsString());

        Path devNull = Files.createTempDirectory(Path.of(System.getProperty("karaf.data")), "dev-null");
        Files.createSymbolicLink(devNull.resolve("spankerctl"), Path.of("/dev/null"));
        String notSpanker = failure("spanker:driver --dev " + devNull);
        assertTrue(notSpanker, notSpanker.startsWith("spanker:driver: Driver: " + devNull.resolve("spankerctl")
                + " is not a Spanker device: SPANKER_IOC_PING answered ENOTTY"));

        features.uninstallFeature(FEATURE);
        assertFalse(features.isInstalled(features.getFeature(FEATURE)));
    }

    private Bundle bundle() {
        for (Bundle bundle : context.getBundles()) {
            if (BUNDLE.equals(bundle.getSymbolicName())) {
                return bundle;
            }
        }
        fail(BUNDLE + " is not installed");
        return null;
    }

    private void awaitDriverCommand() throws Exception {
        KarafShell.await("spanker:driver to appear in the Karaf shell", READY_MILLIS, 100,
                () -> sessions.getRegistry().getCommand("spanker", "driver") != null);
    }

    /** Runs a command that must fail and returns its one-line message. */
    private String failure(String commandLine) throws Exception {
        try {
            String printed = output(commandLine);
            fail(commandLine + " must fail, printed: " + printed);
            return null;
        } catch (Exception e) {
            assertEquals("org.apache.karaf.shell.support.CommandException", e.getClass().getName());
            assertEquals(e.getMessage(), 1, e.getMessage().lines().count());
            return e.getMessage();
        }
    }

    /** What a command printed; with --json a failed command prints its error document (kept) and throws. */
    private String output(String commandLine) throws Exception {
        return KarafShell.inSession(sessions, commandLine, true, commandLine.contains("--json"));
    }
}
