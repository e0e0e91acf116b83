package org.popsolutions.spanker.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/** A shapes-only model reads exactly like the full one, and its weights are zero. */
class ModelSynthShapesTest {
    @TempDir
    Path dir;

    @Test
    void aShapesOnlyModelHasTheFullModelsLayoutAndZeroWeights() throws Exception {
        Path full = dir.resolve("tiny.gguf");
        Path shapes = dir.resolve("tiny-shapes.gguf");
        ModelSynth.write(ModelSynth.TINY, GgmlType.Q4_0, 1, full, done -> { });
        ModelSynth.writeShapes(ModelSynth.TINY, GgmlType.Q4_0, shapes);
        assertEquals(Files.size(full), Files.size(shapes));
        ModelShape a = new GgufModelReader().read(full);
        ModelShape b = new GgufModelReader().read(shapes);
        assertEquals(a.tensors(), b.tensors());
        assertEquals(a.layers(), b.layers());
        byte[] bytes = Files.readAllBytes(shapes);
        byte[] fullBytes = Files.readAllBytes(full);
        int dataStart = (int) org.popsolutions.spanker.ggml.gguf.GgufReader.readHeader(shapes).dataOffset();
        for (int i = 0; i < bytes.length; i++) {
            if (i < dataStart ? bytes[i] != fullBytes[i] : bytes[i] != 0) {
                throw new AssertionError("byte " + i + (i < dataStart ? " of the header differs" : " of the data is not 0"));
            }
        }
        boolean fullHasWeights = false;
        for (int i = dataStart; i < fullBytes.length && !fullHasWeights; i++) {
            fullHasWeights = fullBytes[i] != 0;
        }
        assertTrue(fullHasWeights, "the full model's weights are not all zero");
        assertEquals(ModelSynth.LLAMA_7B, ModelSynth.presets().stream().filter(p -> p.name().equals("llama-7b"))
                .findFirst().orElseThrow());
        assertEquals(6_738_415_616L, ModelSynth.LLAMA_7B.parameters(), "Llama-2-7B's parameter count");
    }
}
