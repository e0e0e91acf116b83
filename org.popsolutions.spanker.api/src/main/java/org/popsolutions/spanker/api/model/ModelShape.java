package org.popsolutions.spanker.api.model;

import java.util.List;
import java.util.Optional;

/**
 * The hyper-parameters and tensors of a llama-family model, as a planner sees them.
 *
 * @param kvHeads key/value heads (grouped-query attention); equal to heads without GQA
 */
public record ModelShape(String name, String architecture, int layers, int embedding, int heads, int kvHeads,
        int feedForward, int vocabulary, int contextLength, List<TensorShape> tensors) {
    public ModelShape {
        tensors = List.copyOf(tensors);
        if (layers < 0 || embedding < 1 || heads < 1 || kvHeads < 1 || heads % kvHeads != 0 || embedding % heads != 0) {
            throw new IllegalArgumentException("inconsistent model shape: layers=" + layers + " embedding=" + embedding
                    + " heads=" + heads + " kvHeads=" + kvHeads);
        }
    }

    public int headDimension() {
        return embedding / heads;
    }

    public long totalBytes() {
        return tensors.stream().mapToLong(TensorShape::bytes).sum();
    }

    public Optional<TensorShape> tensor(String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    public List<TensorShape> layerTensors(int layer) {
        return tensors.stream().filter(t -> t.layer() == layer).toList();
    }
}
