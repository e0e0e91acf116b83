package org.popsolutions.spanker.model.llama;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.model.ModelReader;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;

/** GGUF → {@link ModelShape}: the llama keys of SPEC §7 and the tensor table, without mapping any weights. */
@Component(service = ModelReader.class)
public final class GgufModelReader implements ModelReader {
    @Override
    public ModelShape read(Path file) {
        return shapeOf(GgufReader.readHeader(file));
    }

    public static ModelShape shapeOf(GgufFile file) {
        LlamaConfig c = LlamaConfig.of(file);
        List<TensorShape> tensors = new ArrayList<>();
        for (GgufTensorInfo t : file.tensors()) {
            tensors.add(new TensorShape(t.name(), t.type().name(), t.rows(), t.rowLength(), t.byteSize(),
                    t.type().blockSize(), layerOf(t.name())));
        }
        return new ModelShape(c.name(), c.architecture(), c.layers(), c.embedding(), c.heads(), c.kvHeads(),
                c.feedForward(), c.vocabulary(), c.contextLength(), tensors);
    }

    /** N for {@code blk.N.*}, −1 otherwise. */
    static int layerOf(String tensor) {
        if (!tensor.startsWith("blk.")) {
            return -1;
        }
        int dot = tensor.indexOf('.', 4);
        try {
            return dot < 0 ? -1 : Integer.parseInt(tensor.substring(4, dot));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
