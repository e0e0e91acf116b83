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
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final KarafCommand command = new KarafCommand(new FakeCommand("topology"));

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    private String run(String... arguments) {
        return command.run(Arrays.asList(arguments), out, err);
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
        assertEquals("", err());
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
    void usageErrorIsOneLineOnStderrNamingTheCommand() {
        String failure = run("--kind", "torus");
        assertEquals(failure + System.lineSeparator(), err());
        assertTrue(failure.startsWith("spanker:topology: option --kind must be one of ring|mesh"), failure);
        assertEquals("", out());
    }

    @Test
    void usageErrorStaysOnStderrEvenWithJson() {
        String failure = run("--json", "--bogus");
        assertTrue(failure.contains("unknown option --bogus"), failure);
        assertEquals(1, err().lines().count());
        assertEquals("", out());
    }

    @Test
    void domainErrorIsOneLineOnStderrWithItsKind() {
        String failure = run("--cards", "0");
        assertEquals("spanker:topology: NoSails: no cards (expected at least 1)", failure);
        assertEquals(failure, err().strip());
        assertEquals("", out());
    }

    @Test
    void domainErrorWithJsonIsTheErrorDocumentOnStdout() {
        assertTrue(run("--cards", "0", "--json") != null);
        assertEquals("{\"error\":{\"kind\":\"NoSails\",\"message\":\"no cards (expected at least 1)\"}}", out().strip());
        assertEquals("", err());
    }

    @Test
    void helpIsPrintedAsLines() {
        assertNull(run("--help"));
        assertTrue(out().contains("--kind ring|mesh"), out());
    }

    @Test
    void executeThrowsACleanCommandExceptionAfterReportingTheError() {
        PrintStream originalErr = System.err;
        System.setErr(err);
        try {
            List<Object> arguments = new ArrayList<>(List.of("--cards", "0"));
            CommandException thrown = assertThrows(CommandException.class, () -> command.execute(null, arguments));
            assertEquals("", thrown.getNiceHelp());
            assertEquals("spanker:topology: NoSails: no cards (expected at least 1)", thrown.getMessage());
        } finally {
            System.setErr(originalErr);
        }
        assertFalse(err().isEmpty());
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
}
