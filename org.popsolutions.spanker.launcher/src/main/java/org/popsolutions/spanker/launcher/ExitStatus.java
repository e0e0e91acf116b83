package org.popsolutions.spanker.launcher;

/** Exit statuses of {@code ./spanker}; scripts rely on them, so they never change meaning. */
public final class ExitStatus {
    /** The command ran; its output is on stdout. */
    public static final int OK = 0;
    /** A domain error (a {@code SpankerException}): {@code error: <kind>: <message>} on stderr. */
    public static final int DOMAIN_ERROR = 1;
    /** The command line is wrong: unknown or missing command, bad option; usage on stderr. */
    public static final int USAGE_ERROR = 2;
    /** Anything else (a bug, a broken installation): {@code internal error: <message>} on stderr. */
    public static final int INTERNAL_ERROR = 3;

    private ExitStatus() {
    }
}
