package org.popsolutions.spanker.console.support;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.popsolutions.spanker.api.console.CommandTerminal;

/**
 * A {@link CommandTerminal} on a JLine terminal: the launcher's own (the process's standard streams, opened on first
 * use), or a Karaf shell session's. Interactive unless JLine found no terminal (a pipe or a file: its dumb terminal)
 * or the terminal reports no width.
 */
public final class JLineTerminal implements CommandTerminal, AutoCloseable {
    private final boolean owned;
    private Terminal terminal;

    private JLineTerminal(Terminal terminal, boolean owned) {
        this.terminal = terminal;
        this.owned = owned;
    }

    /** A surface's terminal (a Karaf session's); closing this leaves it open. */
    public static JLineTerminal of(Terminal terminal) {
        return new JLineTerminal(terminal, false);
    }

    /**
     * The process's own terminal, opened when a command first asks (most never do) and closed by {@link #close()}.
     * JLine leaves the JVM's signal handling alone (Ctrl-C still runs the shutdown hooks) and quietly gives a dumb
     * terminal when the streams are not one.
     */
    public static JLineTerminal system() {
        return new JLineTerminal(null, true);
    }

    private synchronized Terminal terminal() {
        if (terminal == null) {
            try {
                terminal = TerminalBuilder.builder().system(true).nativeSignals(false)
                        .signalHandler(Terminal.SignalHandler.SIG_DFL).dumb(true).build();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the terminal: " + e.getMessage(), e);
            }
        }
        return terminal;
    }

    @Override
    public boolean interactive() {
        Terminal t = terminal();
        String type = t.getType();
        return type != null && !type.startsWith(Terminal.TYPE_DUMB) && t.getWidth() > 0;
    }

    @Override
    public int columns() {
        return Math.max(0, terminal().getWidth());
    }

    @Override
    public PrintWriter writer() {
        return terminal().writer();
    }

    @Override
    public synchronized void close() {
        if (owned && terminal != null) {
            try {
                terminal.writer().flush();
                terminal.close();
            } catch (IOException e) {
                // the command is over; a terminal that will not close leaves nothing to undo
            }
        }
    }
}
