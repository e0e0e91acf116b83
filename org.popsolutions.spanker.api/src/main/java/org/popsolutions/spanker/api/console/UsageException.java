package org.popsolutions.spanker.api.console;

/** The command line itself is wrong: unknown option, missing or malformed value. Not a domain error. */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
