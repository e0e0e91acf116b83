package org.popsolutions.spanker.launcher;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.CommandStatus;

/**
 * Runs the launcher in-process against the bundles the build copied to target/bundles: the real framework, the
 * real core bundles, the exit-status contract of ./spanker.
 */
class LauncherTest {
    private record Outcome(int status, String out, String err) {
    }

    private static Outcome run(String... arguments) {
        return run(Duration.ofSeconds(30), Duration.ofMillis(500), arguments);
    }

    private static Outcome run(Duration timeout, Duration settle, String... arguments) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path bundles = Path.of(System.getProperty("spanker.bundles", "target/bundles"));
        Launcher.Settings settings = new Launcher.Settings(bundles, timeout, settle, false);
        int status = new Launcher(settings, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(List.of(arguments));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * The cluster command starts node processes from inside the embedded framework (its bundle's jar, the api and
     * Felix from the class path, Hazelcast from cluster-lib) and stops them again.
     */
    @Test
    void theClusterCommandStartsNodeProcessesFromTheLauncherAndStopsThem(@org.junit.jupiter.api.io.TempDir Path home) {
        String before = System.getProperty("spanker.cluster.home");
        System.setProperty("spanker.cluster.home", home.toString());
        try {
            Outcome none = run("cluster", "status");
            assertEquals(ExitStatus.DOMAIN_ERROR, none.status());
            assertTrue(none.err().contains("no cluster is running"), none.err());
            Outcome started = run("cluster", "start", "--l5", "1", "--l4", "1", "--l3", "1", "--processes", "2",
                    "--json");
            assertEquals(ExitStatus.OK, started.status(), started.err());
            assertTrue(started.out().contains("\"nodes\":4"), started.out());
            Outcome topology = run("cluster", "test", "topology", "--json");
            assertEquals(ExitStatus.OK, topology.status(), topology.err());
            assertTrue(topology.out().contains("\"count\":1"), topology.out());
            Outcome status = run("cluster", "status", "--json");
            assertTrue(status.out().contains("\"L3\":{\"live\":1,\"suspect\":0,\"dead\":0}"), status.out());
            // run --hosts: the model's stage on the host's own process, the same tokens as one card here
            String model = home.resolve("tiny-q4_0.gguf").toString();
            Outcome synth = run("model-synth", "--preset", "tiny", "--type", "q4_0", "--out", model);
            assertEquals(ExitStatus.OK, synth.status(), synth.err());
            Outcome hosts = run("run", "--model", model, "--hosts", "1", "--n", "6", "--json");
            assertEquals(ExitStatus.OK, hosts.status(), hosts.err());
            Outcome one = run("run", "--model", model, "--cards", "1", "--n", "6", "--json");
            assertEquals(ExitStatus.OK, one.status(), one.err());
            assertEquals(tokensOf(one.out()), tokensOf(hosts.out()), hosts.out());
            assertTrue(hosts.out().contains("\"host\":\"L3(0,0,0,0)\""), hosts.out());
            Outcome tooMany = run("run", "--model", model, "--hosts", "2", "--n", "2");
            assertEquals(ExitStatus.DOMAIN_ERROR, tooMany.status());
            assertTrue(tooMany.err().contains("--hosts 2 needs 2 live L3 hosts in one pod"), tooMany.err());
            Outcome plan = run("plan", "--model", model, "--hosts", "4", "--cards", "2", "--json");
            assertEquals(ExitStatus.OK, plan.status(), plan.err());
            assertTrue(plan.out().contains("\"handOffsPerToken\":3"), plan.out());
        } finally {
            Outcome stopped = run("cluster", "stop", "--json");
            if (before == null) {
                System.clearProperty("spanker.cluster.home");
            } else {
                System.setProperty("spanker.cluster.home", before);
            }
            assertTrue(stopped.out().contains("\"stopped\":true"), stopped.out() + stopped.err());
        }
    }

    /** The "tokens" array of a run's JSON. */
    private static String tokensOf(String json) {
        int at = json.indexOf("\"tokens\":[");
        assertTrue(at >= 0, json);
        return json.substring(at, json.indexOf(']', at) + 1);
    }

    @Test
    void theReferenceTileIsModelParallelAndExitsZero() {
        Outcome outcome = run("pick", "--m", "1", "--n", "5632", "--k", "2048", "--bpe", "2", "--cards", "4", "--json");
        assertAll(() -> assertEquals(ExitStatus.OK, outcome.status(), outcome.err()),
                () -> assertTrue(outcome.out().contains("\"strategy\":\"ModelParallel\""), outcome.out()),
                () -> assertEquals("", outcome.err()));
    }

    @Test
    void aDomainErrorExitsOneWithTheKindOnStderrAndJsonOnStdout() {
        Outcome outcome = run("allreduce", "--op", "sum", "--buffers", "1,2;3", "--json");
        assertAll(() -> assertEquals(ExitStatus.DOMAIN_ERROR, outcome.status()),
                () -> assertTrue(outcome.err().startsWith("error: ShapeMismatch: "), outcome.err()),
                () -> assertTrue(outcome.out().startsWith("{\"error\":{\"kind\":\"ShapeMismatch\",\"message\":"),
                        outcome.out()));
    }

    @Test
    void versionIsAnswered() {
        Outcome outcome = run("--version");
        assertAll(() -> assertEquals(ExitStatus.OK, outcome.status(), outcome.err()),
                () -> assertTrue(outcome.out().startsWith("spanker "), outcome.out()),
                () -> assertTrue(outcome.out().contains("Java " + Runtime.version().feature()), outcome.out()));
    }

    @Test
    void shortHelpWorksAfterACommandToo() {
        Outcome outcome = run("pick", "-h");
        assertAll(() -> assertEquals(ExitStatus.OK, outcome.status(), outcome.err()),
                () -> assertTrue(outcome.out().contains("--intercard"), outcome.out()));
    }

    @Test
    void extraWordsAfterHelpAreAUsageError() {
        Outcome outcome = run("help", "run", "extra");
        assertAll(() -> assertEquals(ExitStatus.USAGE_ERROR, outcome.status()),
                () -> assertTrue(outcome.err().contains("'help' takes one command name"), outcome.err()));
    }

    @Test
    void aDomainErrorWithoutJsonLeavesStdoutEmpty() {
        Outcome outcome = run("allreduce", "--op", "sum", "--buffers", "1,2;3");
        assertAll(() -> assertEquals(ExitStatus.DOMAIN_ERROR, outcome.status()),
                () -> assertEquals("", outcome.out()));
    }

    @Test
    void aBadOptionValueIsAUsageErrorWithTheCommandsHelp() {
        Outcome outcome = run("pick", "--m", "x", "--n", "1", "--k", "1");
        assertAll(() -> assertEquals(ExitStatus.USAGE_ERROR, outcome.status()),
                () -> assertTrue(outcome.err().startsWith("error: option --m "), outcome.err()),
                () -> assertTrue(outcome.err().contains("--bpe"), outcome.err()),
                () -> assertEquals("", outcome.out()));
    }

    @Test
    void anUnknownCommandIsAUsageErrorListingTheCommands() {
        Outcome outcome = run("frobnicate");
        assertAll(() -> assertEquals(ExitStatus.USAGE_ERROR, outcome.status()),
                () -> assertTrue(outcome.err().contains("unknown command 'frobnicate'"), outcome.err()),
                () -> assertTrue(outcome.err().contains("  topology "), outcome.err()),
                () -> assertTrue(outcome.err().contains("  pick "), outcome.err()));
    }

    @Test
    void noCommandIsAUsageErrorListingTheCommands() {
        Outcome outcome = run();
        assertAll(() -> assertEquals(ExitStatus.USAGE_ERROR, outcome.status()),
                () -> assertTrue(outcome.err().contains("no command given"), outcome.err()),
                () -> assertTrue(outcome.err().contains("  allreduce "), outcome.err()));
    }

    @Test
    void helpListsEveryCommandWithItsDescriptionOnStdout() {
        Outcome outcome = run("--help");
        assertEquals(ExitStatus.OK, outcome.status());
        for (String command : List.of("topology", "bandwidth", "pick", "allreduce", "allgather", "strategy")) {
            assertTrue(outcome.out().lines().anyMatch(l -> l.startsWith("  " + command + " ") && l.length() > 14),
                    command + " missing from:\n" + outcome.out());
        }
    }

    /**
     * fleet start finds the card emulator where Main says it is (emulator/ beside the launcher's classes, filled by
     * the build), starts real emulator processes, and --device sails drives them.
     */
    @Test
    void theFleetCommandStartsEmulatorsFromTheLauncherBuild(@org.junit.jupiter.api.io.TempDir Path fleet)
            throws Exception {
        String before = System.getProperty("spanker.fleet.dir");
        System.setProperty("spanker.fleet.dir", fleet.toString());
        Main.settings();
        try {
            Outcome started = run("fleet", "start", "--cards", "2", "--unshaped", "--json");
            assertEquals(ExitStatus.OK, started.status(), started.err());
            Outcome topology = run("topology", "--device", "sails", "--json");
            assertAll(() -> assertEquals(ExitStatus.OK, topology.status(), topology.err()),
                    () -> assertTrue(topology.out().contains("\"provider\":\"sails\""), topology.out()),
                    () -> assertTrue(topology.out().contains("sails-emu-1"), topology.out()));
        } finally {
            Outcome stopped = run("fleet", "stop", "--json");
            if (before == null) {
                System.clearProperty("spanker.fleet.dir");
            } else {
                System.setProperty("spanker.fleet.dir", before);
            }
            assertEquals(ExitStatus.OK, stopped.status(), stopped.err());
        }
    }

    /**
     * The listing and the unknown-command answer end on the bundles' declarations, not on a quiet period: with an
     * hour's settle and timeout they would otherwise not return before the safety net below.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void listingAndUnknownCommandsDoNotWaitForRegistrationsToSettle() {
        Duration hour = Duration.ofHours(1);
        Outcome help = run(hour, hour, "--help");
        assertEquals(ExitStatus.OK, help.status(), help.err());
        for (String command : List.of("run", "plan", "topology", "bench-collective", "fleet", "cluster")) {
            assertTrue(help.out().lines().anyMatch(l -> l.startsWith("  " + command + " ")),
                    command + " missing from:\n" + help.out());
        }
        Outcome unknown = run(hour, hour, "frobnicate");
        assertAll(() -> assertEquals(ExitStatus.USAGE_ERROR, unknown.status()),
                () -> assertTrue(unknown.err().contains("unknown command 'frobnicate'"), unknown.err()));
    }

    @Test
    void tablesArePrintedForPeople() {
        Outcome outcome = run("topology");
        assertAll(() -> assertEquals(ExitStatus.OK, outcome.status(), outcome.err()),
                () -> assertTrue(outcome.out().contains("cabled as a ring"), outcome.out()),
                () -> assertFalse(outcome.out().contains("{"), outcome.out()));
    }

    @Test
    void aMissingBundleDirectoryIsAnInternalErrorOnOneLine() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Launcher.Settings settings = new Launcher.Settings(Path.of("target/no-such-bundles"), Duration.ofSeconds(1),
                Duration.ofMillis(100), false);
        int status = new Launcher(settings, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(List.of("topology"));
        String message = err.toString(StandardCharsets.UTF_8);
        assertAll(() -> assertEquals(ExitStatus.INTERNAL_ERROR, status),
                () -> assertTrue(message.startsWith("internal error: bundle directory "), message),
                () -> assertEquals(1, message.lines().count(), message));
    }

    @Test
    void theExitStatusIsTheOneTheCommandsResultCarries() {
        CommandSpec spec = new CommandSpec("demo", "a demo command", List.of(), List.of());
        record Rendered(int status, String out, String err) {
        }
        java.util.function.Function<CommandResult, Rendered> render = result -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = Launcher.render(result, spec, "demo", new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            return new Rendered(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        };
        Rendered ok = render.apply(new CommandResult(List.of(), List.of("done"), null, true));
        Rendered domain = render.apply(CommandResult.failure(CommandStatus.DOMAIN_ERROR, "NoSails", "no cards\nat all",
                "{\"error\":{}}"));
        Rendered usage = render.apply(CommandResult.failure(CommandStatus.USAGE_ERROR, null, "--n is not a number",
                null));
        Rendered internal = render.apply(CommandResult.failure(CommandStatus.INTERNAL_ERROR,
                "java.lang.IllegalStateException", "broken", null));
        assertAll(() -> assertEquals(ExitStatus.OK, ok.status()),
                () -> assertEquals("done\n", ok.out()),
                () -> assertEquals("", ok.err()),
                () -> assertEquals(ExitStatus.DOMAIN_ERROR, domain.status()),
                () -> assertEquals("error: NoSails: no cards at all\n", domain.err()),
                () -> assertEquals("{\"error\":{}}\n", domain.out()),
                () -> assertEquals(ExitStatus.USAGE_ERROR, usage.status()),
                () -> assertTrue(usage.err().startsWith("error: --n is not a number\n"), usage.err()),
                () -> assertTrue(usage.err().contains("spanker demo"), "the command's help follows: " + usage.err()),
                () -> assertEquals(ExitStatus.INTERNAL_ERROR, internal.status()),
                () -> assertEquals("internal error: java.lang.IllegalStateException: broken\n", internal.err()));
    }
}
