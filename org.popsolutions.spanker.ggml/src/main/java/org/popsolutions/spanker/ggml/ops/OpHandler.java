package org.popsolutions.spanker.ggml.ops;

import org.popsolutions.spanker.api.card.Op;

/**
 * What a card does with each of the SPI's ops, one method per op kind: a mock card compiles an op into a step, an
 * emulated card runs it on its DDR. {@link OpDispatch#dispatch} is the one place an op is told apart from the others,
 * so an op added to the SPI is added there and here, and every card that runs programs is made to handle it.
 *
 * @param <R> what handling an op gives (a compiled step, nothing)
 * @param <X> the checked exception handling an op may throw
 */
public interface OpHandler<R, X extends Exception> {
    R embeddingRow(Op.EmbeddingRow op) throws X;

    R matMul(Op.MatMul op) throws X;

    R rmsNorm(Op.RmsNorm op) throws X;

    R rope(Op.Rope op) throws X;

    R attention(Op.Attention op) throws X;

    R swiGlu(Op.SwiGlu op) throws X;

    R add(Op.Add op) throws X;

    R copy(Op.Copy op) throws X;

    R send(Op.Send op) throws X;

    R receive(Op.Receive op) throws X;

    R forward(Op.Forward op) throws X;

    R reduce(Op.Reduce op) throws X;

    R tagOrigins(Op.TagOrigins op) throws X;

    R divide(Op.Divide op) throws X;
}
