package org.popsolutions.spanker.api.console;

/**
 * How a command ended, which is all a surface (the launcher, the Karaf shell) needs to decide what to print and,
 * for the launcher, its exit status.
 */
public enum CommandStatus {
    /** The command ran; its output is the result's tables, lines or JSON. */
    OK(0),
    /** A domain error (a {@code SpankerException}): the result names its kind and message. */
    DOMAIN_ERROR(1),
    /** The command line does not fit the command: the result says what was wrong. */
    USAGE_ERROR(2),
    /** A defect: never the answer to bad input; the result names the failure in one line. */
    INTERNAL_ERROR(3);

    private final int exitStatus;

    CommandStatus(int exitStatus) {
        this.exitStatus = exitStatus;
    }

    /** The standalone launcher's exit status for it: 0, 1, 2 or 3. */
    public int exitStatus() {
        return exitStatus;
    }
}
