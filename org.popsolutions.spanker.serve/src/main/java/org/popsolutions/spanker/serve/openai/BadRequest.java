package org.popsolutions.spanker.serve.openai;

/** A request the endpoint refuses: its status, OpenAI's error type and the parameter at fault (may be null). */
final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String type;
    final String param;

    BadRequest(int status, String type, String param, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
    }

    static BadRequest invalid(String param, String message) {
        return new BadRequest(400, "invalid_request_error", param, message);
    }
}
