package org.popsolutions.spanker.serve.jinja;

/**
 * A chat template that does not parse or fails while rendering. {@link #raisedByTemplate} when the template itself
 * refused its input with {@code raise_exception(message)} (e.g. roles that do not alternate): the caller's fault,
 * not the template's.
 */
public final class TemplateError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean raisedByTemplate;

    TemplateError(String message, boolean raisedByTemplate) {
        super(message, null, false, false);
        this.raisedByTemplate = raisedByTemplate;
    }

    TemplateError(String message) {
        this(message, false);
    }

    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
