package org.popsolutions.spanker.api.plot;

import java.nio.file.Path;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** Draws charts into one SVG file, one under the other. */
@ProviderType
public interface ChartWriter {
    /**
     * Writes the whole file or nothing: the SVG goes to a temporary file beside {@code file}, renamed over it
     * when complete.
     *
     * @throws org.popsolutions.spanker.api.DeviceException when the file cannot be written (the message names it)
     */
    void writeSvg(List<Chart> charts, Path file);

    /**
     * The same drawing as a document in memory (for an HTTP answer).
     *
     * @since 1.1
     */
    String svg(List<Chart> charts);
}
