package org.popsolutions.spanker.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.Test;

class KarafCommandTest {
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final KarafCommand command = new KarafCommand(new FakeCommand("topology"));

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private KarafCommand.Failure run(String... arguments) {
        return command.run(Arrays.asList(arguments), out);
    }

    @Test
    void isNamedFromTheSpecInTheSpankerScope() {
        assertEquals("spanker", command.getScope());
        assertEquals("topology", command.getName());
        assertEquals("fake topology", command.getDescription());
    }

    @Test
    void formattedOutputHasTitleHeadersAndRowsThenTheLines() {
        assertNull(run("--cards", "3"));
        List<String> lines = out().lines().toList();
        assertEquals("Links", lines.get(0));
        assertTrue(lines.get(1).matches("from\\s+\\S\\s+to\\s+\\S\\s+state\\s*"), lines.get(1));
        assertTrue(lines.get(3).matches("0\\s+\\S\\s+1\\s+\\S\\s+UP\\s*"), lines.get(3));
        assertTrue(lines.get(5).matches("2\\s+\\S\\s+0\\s+\\S\\s+UP\\s*"), lines.get(5));
        assertEquals("RING of 3 cards", lines.get(lines.size() - 1));
    }

    @Test
    void noFormatPrintsOnlyTabSeparatedRowsAndTheLines() {
        assertNull(run("--no-format", "--kind", "mesh"));
        // ShellTable pads cells to the column width even without format; the tab is the separator.
        List<String> lines = out().lines().map(line -> line.replaceAll(" *\t", "\t").stripTrailing()).toList();
        assertEquals(List.of("0\t1\tUP", "1\t0\tUP", "MESH of 2 cards"), lines);
    }

    @Test
    void jsonPrintsTheDocumentOnly() {
        assertNull(run("--json", "--kind", "ring", "--cards", "4"));
        assertEquals("{\"kind\":\"RING\",\"cards\":4}", out().strip());
    }

    @Test
    void usageErrorIsOneLineNamingTheCommandAndPrintsNothing() {
        KarafCommand.Failure failure = run("--kind", "torus");
        assertEquals("spanker:topology: option --kind must be one of ring|mesh, got 'torus' (see spanker:topology --help)",
                failure.message());
        assertFalse(failure.printed());
        assertEquals("", out());
    }

    @Test
    void usageErrorIsNotJsonEvenWithJson() {
        KarafCommand.Failure failure = run("--json", "--bogus");
        assertTrue(failure.message().contains("unknown option --bogus"), failure.message());
        assertFalse(failure.printed());
        assertEquals("", out());
    }

    @Test
    void domainErrorIsOneLineWithItsKind() {
        KarafCommand.Failure failure = run("--cards", "0");
        assertEquals("spanker:topology: NoSails: no cards (expected at least 1)", failure.message());
        assertFalse(failure.printed());
        assertEquals("", out());
    }

    @Test
    void domainErrorWithJsonIsTheErrorDocumentOnTheOutput() {
        KarafCommand.Failure failure = run("--cards", "0", "--json");
        assertTrue(failure.printed());
        assertEquals("{\"error\":{\"kind\":\"NoSails\",\"message\":\"no cards (expected at least 1)\"}}", out().strip());
    }

    @Test
    void jsonAfterTheEndOfOptionsIsNotTheFlag() {
        KarafCommand command = new KarafCommand(new FakeCommand("topology"));
        KarafCommand.Failure failure = command.run(List.of("--cards", "0", "--", "--json"), out);
        assertFalse(failure.printed());
    }

    @Test
    void helpIsPrintedAsLinesInKarafsLayout() {
        assertNull(run("--help"));
        assertTrue(out().contains("        --kind"), out());
        assertTrue(out().contains("(ring|mesh)"), out());
    }

    @Test
    void helpNamesTheScopeAndShortHelpWorks() {
        assertNull(run("-h"));
        assertTrue(out().contains("spanker:topology [options]"), out());
    }

    @Test
    void anUnexpectedExceptionIsOneLineNotAStackTrace() {
        KarafCommand.Failure failure = run("--cards", "-1");
        assertTrue(failure.message().startsWith("spanker:topology: internal error: ArrayIndexOutOfBoundsException"),
                failure.message());
        assertFalse(failure.message().contains("\n"), failure.message());
        assertFalse(failure.message().contains("a.b.C"), failure.message());
    }

    @Test
    void executeThrowsACommandExceptionWhoseNiceHelpIsTheMessage() {
        List<Object> arguments = new ArrayList<>(List.of("--cards", "0"));
        CommandException thrown = assertThrows(CommandException.class, () -> command.execute(null, arguments));
        assertEquals("spanker:topology: NoSails: no cards (expected at least 1)", thrown.getNiceHelp());
        assertEquals(thrown.getNiceHelp(), thrown.getMessage());
    }

    @Test
    void executeWithJsonPrintsTheErrorDocumentAndThrowsWithAnEmptyNiceHelp() {
        PrintStream originalOut = System.out;
        System.setOut(out);
        try {
            List<Object> arguments = new ArrayList<>(List.of("--cards", "0", "--json"));
            CommandException thrown = assertThrows(CommandException.class, () -> command.execute(null, arguments));
            assertEquals("", thrown.getNiceHelp());
        } finally {
            System.setOut(originalOut);
        }
        assertTrue(out().startsWith("{\"error\""), out());
    }

    @Test
    void executeConvertsNonStringArguments() throws Exception {
        PrintStream originalOut = System.out;
        System.setOut(out);
        try {
            assertNull(command.execute(null, new ArrayList<>(List.of("--json", "--cards", 3))));
        } finally {
            System.setOut(originalOut);
        }
        assertEquals("{\"kind\":\"RING\",\"cards\":3}", out().strip());
    }

    @Test
    void executeWithHelpPrintsKarafsLayoutWithTheScope() throws Exception {
        PrintStream originalOut = System.out;
        System.setOut(out);
        try {
            assertNull(command.execute(null, new ArrayList<>(List.of("--cards", "0", "-h"))));
        } finally {
            System.setOut(originalOut);
        }
        List<String> lines = out().lines().toList();
        assertEquals("DESCRIPTION", lines.get(0));
        assertEquals("        spanker:topology", lines.get(1));
        assertEquals("\tfake topology", lines.get(3));
        assertEquals("SYNTAX", lines.get(5));
        assertEquals("        spanker:topology [options]", lines.get(6));
        assertEquals("OPTIONS", lines.get(8));
        int kind = lines.indexOf("        --kind");
        assertEquals("                topology kind (ring|mesh)", lines.get(kind + 1));
        assertEquals("                (defaults to ring)", lines.get(kind + 2));
        assertTrue(lines.contains("        --help, -h"), out());
    }

    @Test
    void helpAfterTheEndOfOptionsIsAnArgument() {
        assertFalse(KarafCommand.asksForHelp(List.of("--", "--help")));
        assertTrue(KarafCommand.asksForHelp(List.of("--json", "--help")));
    }

    @Test
    void helpOnATerminalHasBoldHeadingsAndAFileArgument() {
        List<String> lines = KarafHelp.lines(new org.popsolutions.spanker.api.console.CommandSpec("gguf", "read a model",
                List.of(), List.of("FILE")), true);
        assertEquals("\u001B[1mDESCRIPTION\u001B[0m", lines.get(0));
        assertEquals("        spanker:gguf FILE", lines.get(6));
        assertEquals("\u001B[1mARGUMENTS\u001B[0m", lines.get(8));
    }
}
