package org.popsolutions.spanker.ggml.gguf;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** The golden llama.cpp models, read in place from the shared folder next to the repository (CI has it). */
public final class GoldenModels {
    public static final Path ROOT = Paths.get("../../shared/golden").toAbsolutePath().normalize();

    private GoldenModels() {
    }

    public static Path model(String name) {
        Path p = ROOT.resolve("model").resolve(name);
        if (!Files.isRegularFile(p)) {
            fail("golden model " + p + " is missing: these tests read /work/shared/golden (Paths.get(\"../../shared/"
                    + "golden\") from the module folder); check out the shared golden data next to the repository");
        }
        return p;
    }
}
