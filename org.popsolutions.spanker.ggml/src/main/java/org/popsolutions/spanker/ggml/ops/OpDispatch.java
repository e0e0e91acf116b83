package org.popsolutions.spanker.ggml.ops;

import org.popsolutions.spanker.api.card.Op;

/** The one switch over the SPI's op kinds: hands an op to the {@link OpHandler} method of its kind. */
public final class OpDispatch {
    private OpDispatch() {
    }

    /** {@code handler}'s method for {@code op}'s kind, applied to it. */
    public static <R, X extends Exception> R dispatch(Op op, OpHandler<R, X> handler) throws X {
        // Java 17: no pattern switch over the sealed ops yet
        if (op instanceof Op.EmbeddingRow o) {
            return handler.embeddingRow(o);
        } else if (op instanceof Op.MatMul o) {
            return handler.matMul(o);
        } else if (op instanceof Op.RmsNorm o) {
            return handler.rmsNorm(o);
        } else if (op instanceof Op.Rope o) {
            return handler.rope(o);
        } else if (op instanceof Op.Attention o) {
            return handler.attention(o);
        } else if (op instanceof Op.SwiGlu o) {
            return handler.swiGlu(o);
        } else if (op instanceof Op.Add o) {
            return handler.add(o);
        } else if (op instanceof Op.Copy o) {
            return handler.copy(o);
        } else if (op instanceof Op.Send o) {
            return handler.send(o);
        } else if (op instanceof Op.Receive o) {
            return handler.receive(o);
        } else if (op instanceof Op.Forward o) {
            return handler.forward(o);
        } else if (op instanceof Op.Reduce o) {
            return handler.reduce(o);
        } else if (op instanceof Op.TagOrigins o) {
            return handler.tagOrigins(o);
        } else if (op instanceof Op.Divide o) {
            return handler.divide(o);
        }
        // Op is sealed: a kind missing above was added to the SPI without a handler method
        throw new IllegalArgumentException("no handler for op " + op.code() + " (" + op.getClass().getSimpleName()
                + ")");
    }
}
