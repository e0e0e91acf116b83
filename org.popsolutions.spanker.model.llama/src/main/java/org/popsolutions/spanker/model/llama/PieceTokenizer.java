package org.popsolutions.spanker.model.llama;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What the GGUF tokenizers share: the vocabulary's pieces and token types, the special tokens, and decoding as
 * bytes joined first and read as UTF-8 last (a character may span several byte tokens).
 */
abstract class PieceTokenizer implements Tokenizer {
    final String[] pieces;
    final int[] types;
    final int bos;
    final int eos;
    private final boolean addBos;

    PieceTokenizer(String[] pieces, int[] types, int bos, int eos, boolean addBos) {
        this.pieces = pieces;
        this.types = types;
        this.bos = bos;
        this.eos = eos;
        this.addBos = addBos;
    }

    /** Appends the bytes token {@code token} stands for (nothing for control tokens). */
    abstract void appendBytes(int token, ByteArrayOutputStream bytes);

    @Override
    public final String decode(List<Integer> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int t : tokens) {
            if (t < 0 || t >= pieces.length) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary 0.."
                        + (pieces.length - 1));
            }
            appendBytes(t, bytes);
        }
        return StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    }

    @Override
    public final int vocabularySize() {
        return pieces.length;
    }

    @Override
    public final int bosToken() {
        return bos;
    }

    @Override
    public final int eosToken() {
        return eos;
    }

    @Override
    public final boolean addsBos() {
        return addBos;
    }
}
