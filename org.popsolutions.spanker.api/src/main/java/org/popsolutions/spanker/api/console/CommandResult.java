package org.popsolutions.spanker.api.console;

import java.util.List;
import java.util.Objects;

/**
 * What a command produced, for a surface to print: tables and text lines for people, or a JSON document
 * when the user asked for {@code --json}; and how it ended. A failed command's result carries its status, the
 * error's kind and its message, so the launcher and the Karaf shell only render it.
 *
 * @param json the JSON document when {@code --json} was given (for a domain error: the error as JSON), otherwise
 *        {@code null}
 * @param formatted {@code false} when the user asked for {@code --no-format} (plain tables, no borders)
 * @param status how the command ended
 * @param errorKind for a failure: a domain error's kind label (e.g. {@code NoSails}), or the failing type's name for
 *        an internal error; {@code null} on success and for usage errors
 * @param errorMessage for a failure: what was wrong, as the error said it; {@code null} on success
 * @since 1.1
 */
public record CommandResult(List<Table> tables, List<String> lines, String json, boolean formatted,
        CommandStatus status, String errorKind, String errorMessage) {
    public CommandResult {
        tables = List.copyOf(tables);
        lines = List.copyOf(lines);
        Objects.requireNonNull(status, "status");
        if (status != CommandStatus.OK && errorMessage == null) {
            throw new IllegalArgumentException("a failed command's result says what was wrong");
        }
    }

    /** A command that ran. */
    public CommandResult(List<Table> tables, List<String> lines, String json, boolean formatted) {
        this(tables, lines, json, formatted, CommandStatus.OK, null, null);
    }

    /** A command that failed: nothing to print but, with {@code --json} and a domain error, the error as JSON. */
    public static CommandResult failure(CommandStatus status, String errorKind, String errorMessage, String json) {
        return new CommandResult(List.of(), List.of(), json, true, status, errorKind, errorMessage);
    }

    public boolean isJson() {
        return json != null;
    }

    public boolean failed() {
        return status != CommandStatus.OK;
    }
}
