package org.popsolutions.spanker.api.console;

import java.io.PrintWriter;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The terminal a command runs in, handed over by its surface (the launcher's own terminal, a Karaf shell session's):
 * where live output goes (text as it is generated, a progress bar redrawn in place) and whether a person watches it.
 */
@ProviderType
public interface CommandTerminal {
    /**
     * Whether it is an interactive terminal: not a pipe, a file or a dumb terminal. Only then is a line redrawn in
     * place; a command's live text is written either way.
     */
    boolean interactive();

    /** Its width in columns; 0 when unknown. */
    int columns();

    /** Its output; what is written shows once flushed. */
    PrintWriter writer();
}
