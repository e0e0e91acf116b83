package org.popsolutions.spanker.console.ggml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.console.support.JLineTerminal;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.runtime.TestSupport;

/**
 * {@code run}'s live output on a JLine terminal, as the launcher and a Karaf session hand theirs over: on an
 * interactive one the load bar is redrawn in place within the terminal's width and the text comes as it is
 * generated; on a dumb one (what JLine gives for a pipe) only the text; with --json nothing.
 */
class TerminalOutputTest {
    static final Path MODEL = GoldenModels.model("tiny-llama-q8_0.gguf");
    private static final String END = "<end of output>";

    @AfterAll
    static void stop() {
        TestSupport.stop(ModelCommandsTest.ENGINE);
    }

    /** A virtual terminal of this type and width, its screen output kept in {@code screen}. */
    static Terminal terminal(String type, int columns, ByteArrayOutputStream screen) throws Exception {
        Terminal t = TerminalBuilder.builder().system(false).type(type).encoding(StandardCharsets.UTF_8)
                .streams(new ByteArrayInputStream(new byte[0]), screen).build();
        t.setSize(new Size(columns, 24));
        return t;
    }

    static String run(Terminal terminal, ByteArrayOutputStream screen, String... extra) throws Exception {
        RunCommand run = ModelCommandsTest.wire(new RunCommand());
        List<String> arguments = new java.util.ArrayList<>(List.of("--model", MODEL.toString(), "--prompt",
                "Hello world", "--n", "4", "--threads", "1"));
        arguments.addAll(List.of(extra));
        CommandResult result = run.execute(arguments, JLineTerminal.of(terminal));
        assertFalse(result.failed(), result.errorMessage());
        // a pseudo-terminal hands the output to `screen` on a pump thread, which close() stops whatever it has not yet
        // copied: under load that was everything (an empty screen); wait for a mark written after the command's output
        terminal.writer().print(END);
        terminal.writer().flush();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!screen.toString(StandardCharsets.UTF_8).contains(END) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        terminal.close();
        String shown = screen.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains(END), "the pseudo-terminal passed on everything written within 30 s");
        // the terminal's output processing sends a line end as \r\n, as a tty does
        return shown.substring(0, shown.indexOf(END)).replace("\r\n", "\n");
    }

    @Test
    void anInteractiveTerminalGetsTheBarWithinItsWidthAndTheText() throws Exception {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        Terminal xterm = terminal("xterm-256color", 40, screen);
        JLineTerminal handed = JLineTerminal.of(xterm);
        assertTrue(handed.interactive());
        assertEquals(40, handed.columns());
        String out = run(xterm, screen);
        assertTrue(out.contains("\rloading ["), out);
        for (String drawn : out.split("\r")) {
            String line = drawn.isEmpty() || drawn.startsWith("\n") ? "" : drawn.split("\n")[0].replace("\u001B[K", "");
            assertTrue(line.length() <= 39, "within 39 columns: '" + line + "'");
        }
        assertTrue(out.contains(" Hello world"), "the prompt, then the text as it came: " + out);
    }

    @Test
    void aDumbTerminalGetsOnlyTheTextAndJsonNothing() throws Exception {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        Terminal dumb = terminal(Terminal.TYPE_DUMB, 80, screen);
        assertFalse(JLineTerminal.of(dumb).interactive());
        String out = run(dumb, screen);
        assertFalse(out.contains("\r"), "no bar: " + out);
        assertTrue(out.startsWith(" Hello world"), out);

        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
        assertEquals("", run(terminal("xterm-256color", 80, quiet), quiet, "--json"));
    }
}
