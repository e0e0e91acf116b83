package org.popsolutions.spanker.model.llama;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
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

    /**
     * Appends the tokens of plain text (no special token in it); {@code afterSpecial} when it starts the prompt or
     * follows a special token (SentencePiece then prefixes a space, as llama.cpp does).
     */
    abstract void encodeText(String text, boolean afterSpecial, List<Integer> out);

    @Override
    public final int[] encode(String text, boolean withBos) {
        List<Integer> out = new ArrayList<>();
        if (withBos && bos >= 0) {
            out.add(bos);
        }
        encodeText(text, true, out);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The text is cut at every special token, longest token first (llama.cpp's tokenizer_st_partition). */
    @Override
    public final int[] encodeWithSpecialTokens(String text, boolean withBos) {
        List<Object> fragments = new ArrayList<>(List.of(text));
        for (int special : specialTokensLongestFirst()) {
            String spelled = pieces[special];
            List<Object> cut = new ArrayList<>();
            for (Object fragment : fragments) {
                if (!(fragment instanceof String raw)) {
                    cut.add(fragment);
                    continue;
                }
                int from = 0;
                for (int at = raw.indexOf(spelled); at >= 0; at = raw.indexOf(spelled, from)) {
                    if (at > from) {
                        cut.add(raw.substring(from, at));
                    }
                    cut.add(special);
                    from = at + spelled.length();
                }
                if (from < raw.length()) {
                    cut.add(raw.substring(from));
                }
            }
            fragments = cut;
        }
        List<Integer> out = new ArrayList<>();
        if (withBos && bos >= 0) {
            out.add(bos);
        }
        boolean afterSpecial = true;
        for (Object fragment : fragments) {
            if (fragment instanceof Integer token) {
                out.add(token);
                afterSpecial = true;
            } else {
                encodeText((String) fragment, afterSpecial, out);
                afterSpecial = false;
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private volatile int[] specialTokens;

    private int[] specialTokensLongestFirst() {
        int[] s = specialTokens;
        if (s == null) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < pieces.length; i++) {
                if ((types[i] == CONTROL || types[i] == USER_DEFINED || types[i] == UNKNOWN) && !pieces[i].isEmpty()) {
                    ids.add(i);
                }
            }
            ids.sort(Comparator.comparingInt((Integer i) -> -pieces[i].length()).thenComparingInt(i -> i));
            s = ids.stream().mapToInt(Integer::intValue).toArray();
            specialTokens = s;
        }
        return s;
    }

    @Override
    public final String tokenText(int id) {
        return id < 0 || id >= pieces.length ? "" : pieces[id];
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
