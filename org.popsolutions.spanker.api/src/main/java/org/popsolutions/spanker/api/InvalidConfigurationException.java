package org.popsolutions.spanker.api;

/** A configuration value breaks a rule; the message names the rule and the offending values. */
public final class InvalidConfigurationException extends SpankerException {
    private static final long serialVersionUID = 1L;

    public InvalidConfigurationException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INVALID_CONFIGURATION;
    }
}
