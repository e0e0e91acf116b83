package org.popsolutions.spanker.api.model;

import java.nio.file.Path;
import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.InvalidModelException;

/** Reads the shape of a model file (GGUF) without loading its weights. */
@ProviderType
public interface ModelReader {
    /**
     * @throws InvalidModelException when the file is missing, malformed, or not a llama-family model
     */
    ModelShape read(Path file);
}
