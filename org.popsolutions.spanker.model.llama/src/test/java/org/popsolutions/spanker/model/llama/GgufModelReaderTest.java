package org.popsolutions.spanker.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GgufWriter;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;

class GgufModelReaderTest {
    @TempDir
    Path dir;

    @Test
    void goldenModelShape() {
        ModelShape s = new GgufModelReader().read(GoldenModels.model("tiny-llama-q8_0.gguf"));
        assertEquals("llama", s.architecture());
        assertEquals(2, s.layers());
        assertEquals(256, s.embedding());
        assertEquals(8, s.heads());
        assertEquals(4, s.kvHeads());
        assertEquals(768, s.feedForward());
        assertEquals(512, s.vocabulary());
        assertEquals(128, s.contextLength());
        assertEquals(32, s.headDimension());
        assertEquals(21, s.tensors().size());
        TensorShape k = s.tensor("blk.1.attn_k.weight").orElseThrow();
        assertEquals(new TensorShape("blk.1.attn_k.weight", "Q8_0", 128, 256, 34816, 32, 1), k);
        TensorShape norm = s.tensor("output_norm.weight").orElseThrow();
        assertEquals(new TensorShape("output_norm.weight", "F32", 1, 256, 1024, 1, -1), norm);
        long stored = 0;
        for (GgufTensorInfo t : GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf")).tensors()) {
            stored += t.byteSize();
        }
        assertEquals(stored, s.totalBytes());
    }

    /** The golden model rewritten without one metadata key. */
    private Path without(String key) {
        GgufFile golden = GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
        GgufWriter w = new GgufWriter();
        golden.metadata().forEach((k, v) -> {
            if (!k.equals(key)) {
                w.put(k, v);
            }
        });
        for (GgufTensorInfo t : golden.tensors()) {
            w.tensor(t.name(), t.type(), t.shape(), golden.data(t));
        }
        Path p = dir.resolve("without-" + key + ".gguf");
        w.write(p);
        return p;
    }

    @Test
    void missingKvHeadCountDefaultsToTheHeadCount() {
        // 8 KV heads then, and the 128-row attn_k no longer fits: refused with the reason
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> new GgufModelReader().read(without("llama.attention.head_count_kv")));
        assertTrue(e.getMessage().contains("blk.0.attn_k.weight is 256 x 128"), e.getMessage());
        assertTrue(e.getMessage().contains("need 256 x 256"), e.getMessage());
    }

    @Test
    void badFilesAreRefusedClearly() throws Exception {
        InvalidModelException missing = assertThrows(InvalidModelException.class,
                () -> new GgufModelReader().read(without("llama.block_count")));
        assertTrue(missing.getMessage().contains("llama.block_count"), missing.getMessage());
        Path text = dir.resolve("not.gguf");
        Files.writeString(text, "hello, not a model");
        assertThrows(InvalidModelException.class, () -> new GgufModelReader().read(text));
        assertThrows(InvalidModelException.class, () -> new GgufModelReader().read(dir.resolve("absent.gguf")));
    }
}
