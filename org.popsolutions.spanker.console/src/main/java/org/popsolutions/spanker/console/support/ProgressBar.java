package org.popsolutions.spanker.console.support;

import java.io.PrintWriter;
import java.util.Locale;
import org.popsolutions.spanker.api.console.CommandTerminal;

/**
 * A one-line progress bar redrawn in place ({@code \r}) on the command's terminal when it is interactive: what is
 * done of the total, the rate and the time left, cut to the terminal's width so that it never wraps. Nothing at all
 * is drawn without an interactive terminal (a pipe, a file, a dumb terminal) or when JSON was asked for, so scripts
 * and JSON consumers never see it. Redrawn at most every {@value #REDRAW_NANOS} ns (and at the end).
 */
public final class ProgressBar {
    static final long REDRAW_NANOS = 100_000_000L;
    private static final int WIDTH = 30;

    private final PrintWriter out;
    private final int columns;
    private final String label;
    private final boolean bytes;
    private long startNanos;
    /**
     * The rate counts from the first report on: what came before it (opening the cards, allocating) is not the
     * transfer, and the first report's bytes were sent in no measured time.
     */
    private long startDone = -1;
    private long lastDrawn = Long.MIN_VALUE;
    private boolean finished;

    private final java.util.function.LongSupplier clock;

    ProgressBar(PrintWriter out, int columns, String label, boolean bytes, java.util.function.LongSupplier clock) {
        this.out = out;
        this.columns = columns;
        this.label = label;
        this.bytes = bytes;
        this.clock = clock;
        this.startNanos = clock.getAsLong();
    }

    /**
     * A bar for a transfer of bytes, drawn on {@code terminal} when it is interactive and {@code json} is false;
     * otherwise a bar that draws nothing.
     */
    public static ProgressBar ofBytes(String label, CommandTerminal terminal, boolean json) {
        return of(label, terminal, json, true);
    }

    /** A bar counting percent, as {@link #ofBytes(String, CommandTerminal, boolean)}. */
    public static ProgressBar ofWork(String label, CommandTerminal terminal, boolean json) {
        return of(label, terminal, json, false);
    }

    /** Without the terminal a bar draws nothing (kept for callers that have none). */
    public static ProgressBar ofBytes(String label, boolean json) {
        return of(label, null, json, true);
    }

    /** Without the terminal a bar draws nothing (kept for callers that have none). */
    public static ProgressBar ofWork(String label, boolean json) {
        return of(label, null, json, false);
    }

    private static ProgressBar of(String label, CommandTerminal terminal, boolean json, boolean bytes) {
        boolean drawn = !json && terminal != null && terminal.interactive();
        return new ProgressBar(drawn ? terminal.writer() : null, drawn ? terminal.columns() : 0, label, bytes,
                System::nanoTime);
    }

    /** Whether anything is drawn. */
    public boolean visible() {
        return out != null;
    }

    /** {@code done} of {@code total}; redrawn when enough time has passed or it is complete. */
    public synchronized void update(long done, long total) {
        if (out == null || finished) {
            return;
        }
        long now = clock.getAsLong();
        if (startDone < 0) {
            startDone = done;
            startNanos = now;
        }
        boolean complete = done >= total;
        if (!complete && lastDrawn != Long.MIN_VALUE && now - lastDrawn < REDRAW_NANOS) {
            return;
        }
        lastDrawn = now;
        String text = line(label, done, total, done - startDone, now - startNanos, bytes);
        // one column short of the width: a line that fills it wraps on some terminals, and \r would redraw the next
        if (columns > 1 && text.length() > columns - 1) {
            text = text.substring(0, columns - 1);
        }
        out.print("\r" + text + "\u001B[K");
        if (complete) {
            out.println();
            finished = true;
        }
        out.flush();
    }

    /** Ends the line if the bar is drawn and not complete (a load that failed half way). */
    public synchronized void close() {
        if (out != null && !finished && lastDrawn != Long.MIN_VALUE) {
            out.println();
            out.flush();
        }
        finished = true;
    }

    /**
     * The bar's text: {@code loading [#####.....]  310.0/620.0 MB  98.4 MB/s  ETA 3.2 s} (bytes) or
     * {@code synthesizing [#####.....]  50%  ETA 3.2 s} (work).
     */
    static String line(String label, long done, long total, long elapsedNanos, boolean bytes) {
        return line(label, done, total, done, elapsedNanos, bytes);
    }

    /** As above, the rate and the time left counted from {@code movedSince} done within the last {@code elapsedNanos}. */
    static String line(String label, long done, long total, long movedSince, long elapsedNanos, boolean bytes) {
        long shown = Math.max(0, Math.min(done, total));
        double fraction = total <= 0 ? 1 : (double) shown / total;
        int filled = (int) Math.floor(fraction * WIDTH);
        StringBuilder b = new StringBuilder(label).append(" [").append("#".repeat(filled))
                .append(".".repeat(WIDTH - filled)).append("] ");
        double seconds = elapsedNanos / 1e9;
        double perSecond = seconds > 0 && movedSince > 0 ? movedSince / seconds : 0;
        if (bytes) {
            b.append(String.format(Locale.ROOT, "%.1f/%.1f MB", shown / 1e6, total / 1e6));
            if (perSecond > 0) {
                b.append(String.format(Locale.ROOT, "  %.1f MB/s", perSecond / 1e6));
            }
        } else {
            b.append(String.format(Locale.ROOT, "%3d%%", (int) Math.round(fraction * 100)));
        }
        if (shown >= total) {
            b.append(String.format(Locale.ROOT, "  done in %.1f s", seconds));
        } else if (perSecond > 0) {
            b.append(String.format(Locale.ROOT, "  ETA %.1f s", (total - shown) / perSecond));
        }
        return b.toString();
    }
}
