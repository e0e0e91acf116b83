package org.popsolutions.spanker.model.llama;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;
import org.popsolutions.spanker.ggml.gguf.GgufWriter;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormat;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * Shape-faithful llama models with random weights (seeded, so the same preset, type and seed give the same file),
 * with a SentencePiece-style vocabulary so that prompts can be tokenized and output decoded. Weights are uniform
 * in ±√(3/row length) so that every matmul keeps unit-scale activations; norms are 1 ± 0.1.
 */
public final class ModelSynth {
    /** The shape of a synthesized model. */
    public record Preset(String name, int embedding, int layers, int heads, int kvHeads, int feedForward,
            int vocabulary, int contextLength, boolean tiedOutput) {
        public long parameters() {
            long hd = embedding / heads;
            long perLayer = 2L * embedding * embedding + 2L * embedding * kvHeads * hd + 3L * embedding * feedForward
                    + 2L * embedding;
            return layers * perLayer + (tiedOutput ? 1 : 2) * (long) vocabulary * embedding + embedding;
        }
    }

    /** TinyLlama-1.1B's shapes (22 blocks, 2048 wide, 32 heads over 4 KV heads, 5632 feed-forward, 32000 tokens). */
    public static final Preset TINYLLAMA_1_1B = new Preset("tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 2048,
            false);
    /** A small model that runs in a blink yet splits over 4 cards on block boundaries of every type. */
    public static final Preset TINY = new Preset("tiny", 512, 8, 8, 4, 1536, 4096, 512, false);

    /** Llama-2-7B's shapes (32 blocks, 4096 wide, 32 heads without grouped KV, 11008 feed-forward, 32000 tokens). */
    public static final Preset LLAMA_7B = new Preset("llama-7b", 4096, 32, 32, 32, 11008, 32000, 4096, false);

    public static List<Preset> presets() {
        return List.of(TINYLLAMA_1_1B, TINY, LLAMA_7B);
    }

    /**
     * Writes a model with the preset's metadata and tensor table but every weight zero, its data section left as a
     * hole in the file (sparse on file systems that have them), for tools that only read shapes, such as the
     * planner: a 7B-shaped model in a blink and no disk space. It still loads and runs (all logits zero). Written
     * to a temporary file beside {@code out} and moved over it whole.
     */
    public static void writeShapes(Preset preset, GgmlType type, Path out) {
        checkSplittable(preset, type);
        GgufWriter writer = new GgufWriter();
        metadata(writer, preset, type);
        List<TensorSpec> specs = tensors(preset, type);
        Path scratch = out.resolveSibling(out.getFileName() + ".shapes.tmp");
        Path partial = out.resolveSibling(out.getFileName() + ".partial");
        try (FileChannel zeros = FileChannel.open(scratch, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.DELETE_ON_CLOSE)) {
            long largest = specs.stream().mapToLong(sp -> sp.type.bytesFor((long) sp.rows * sp.cols)).max().orElse(0);
            zeros.truncate(0);
            if (largest > 0) {
                zeros.write(ByteBuffer.allocate(1), largest - 1);
            }
            for (TensorSpec sp : specs) {
                long bytes = sp.type.bytesFor((long) sp.rows * sp.cols);
                writer.tensor(sp.name, sp.type, sp.rows == 1 ? new long[] {sp.cols} : new long[] {sp.cols, sp.rows},
                        zeros.map(FileChannel.MapMode.READ_ONLY, 0, bytes));
            }
            long length;
            try (java.io.OutputStream stream = new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(
                    partial))) {
                length = writer.writeHeader(stream);
            }
            try (FileChannel file = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                if (file.size() < length) {
                    file.write(ByteBuffer.allocate(1), length - 1);
                }
            }
            java.nio.file.Files.move(partial, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UncheckedIOException e) {
            try {
                java.nio.file.Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // the original failure is the one to report
            }
            throw new DeviceException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    private static void checkSplittable(Preset preset, GgmlType type) {
        if (!type.computable() || !org.popsolutions.spanker.ggml.kernel.Kernels.supports(type)) {
            throw new IllegalArgumentException("cannot synthesize " + type.ggmlName() + " weights");
        }
        for (int cols : new int[] {preset.embedding(), preset.feedForward()}) {
            if (cols % type.blockSize() != 0) {
                throw new IllegalArgumentException(preset.name() + " has rows of " + cols + " values; "
                        + type.ggmlName() + " needs multiples of " + type.blockSize());
            }
        }
    }

    private ModelSynth() {
    }

    /**
     * Writes the model to {@code out}. Tensor bytes are staged in a scratch file next to it (so a 1.1B-parameter
     * model does not need the heap), which is deleted afterwards. The scratch file is written with plain writes
     * (a full disk is an IOException, not a fault inside a mapping) and only mapped, read-only, once complete.
     *
     * @param progress told the values written so far, out of {@link Preset#parameters()}
     * @throws UncheckedIOException when a write fails (e.g. the disk is full)
     */
    public static void write(Preset preset, GgmlType type, long seed, Path out, LongConsumer progress) {
        checkSplittable(preset, type);
        GgufWriter writer = new GgufWriter();
        metadata(writer, preset, type);
        List<TensorSpec> specs = tensors(preset, type);
        long total = specs.stream().mapToLong(s -> s.type.bytesFor((long) s.rows * s.cols)).sum();
        Path scratch = out.resolveSibling(out.getFileName() + ".weights.tmp");
        AtomicLong done = new AtomicLong();
        try (FileChannel channel = FileChannel.open(scratch, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.DELETE_ON_CLOSE)) {
            long at = 0;
            for (int i = 0; i < specs.size(); i++) {
                TensorSpec s = specs.get(i);
                long bytes = s.type.bytesFor((long) s.rows * s.cols);
                stage(s, channel, at, seed * 1_000_003L + i, done, progress);
                ByteBuffer region = channel.map(FileChannel.MapMode.READ_ONLY, at, bytes).order(ByteOrder.LITTLE_ENDIAN);
                writer.tensor(s.name, s.type, s.rows == 1 ? new long[] {s.cols} : new long[] {s.cols, s.rows},
                        region);
                at += bytes;
            }
            if (total != at) {
                throw new IllegalStateException("tensor bytes " + at + " != " + total);
            }
            writer.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out, e);
        }
    }

    /** Rows of a tensor at most this many bytes at a time through the heap. */
    private static final long STAGING_BYTES = 16L << 20;

    /** Fills the tensor's rows chunk by chunk on the heap and writes each chunk to the scratch file at {@code at}. */
    private static void stage(TensorSpec s, FileChannel channel, long at, long seed, AtomicLong done,
            LongConsumer progress) throws IOException {
        long rowBytes = s.type.bytesFor(s.cols);
        int rowsPerChunk = (int) Math.max(1, STAGING_BYTES / rowBytes);
        for (int first = 0; first < s.rows; first += rowsPerChunk) {
            int rows = Math.min(rowsPerChunk, s.rows - first);
            ByteBuffer chunk = ByteBuffer.allocate((int) (rows * rowBytes)).order(ByteOrder.LITTLE_ENDIAN);
            fill(s, first, rows, chunk, seed, done, progress);
            long position = at + first * rowBytes;
            while (chunk.hasRemaining()) {
                position += channel.write(chunk, position);
            }
        }
    }

    private record TensorSpec(String name, GgmlType type, int rows, int cols, boolean norm) {
    }

    private static List<TensorSpec> tensors(Preset p, GgmlType type) {
        int kvDim = p.kvHeads() * (p.embedding() / p.heads());
        List<TensorSpec> specs = new ArrayList<>();
        specs.add(new TensorSpec("token_embd.weight", type, p.vocabulary(), p.embedding(), false));
        for (int l = 0; l < p.layers(); l++) {
            String b = "blk." + l + ".";
            specs.add(new TensorSpec(b + "attn_norm.weight", GgmlType.F32, 1, p.embedding(), true));
            specs.add(new TensorSpec(b + "attn_q.weight", type, p.embedding(), p.embedding(), false));
            specs.add(new TensorSpec(b + "attn_k.weight", type, kvDim, p.embedding(), false));
            specs.add(new TensorSpec(b + "attn_v.weight", type, kvDim, p.embedding(), false));
            specs.add(new TensorSpec(b + "attn_output.weight", type, p.embedding(), p.embedding(), false));
            specs.add(new TensorSpec(b + "ffn_norm.weight", GgmlType.F32, 1, p.embedding(), true));
            specs.add(new TensorSpec(b + "ffn_gate.weight", type, p.feedForward(), p.embedding(), false));
            specs.add(new TensorSpec(b + "ffn_up.weight", type, p.feedForward(), p.embedding(), false));
            specs.add(new TensorSpec(b + "ffn_down.weight", type, p.embedding(), p.feedForward(), false));
        }
        specs.add(new TensorSpec("output_norm.weight", GgmlType.F32, 1, p.embedding(), true));
        if (!p.tiedOutput()) {
            specs.add(new TensorSpec("output.weight", type, p.vocabulary(), p.embedding(), false));
        }
        return specs;
    }

    /**
     * Rows {@code first..first+rows} into {@code region} (row {@code first} at 0), in parallel, each row from its own
     * seeded generator, so the bytes depend neither on the thread count nor on the chunking.
     */
    private static void fill(TensorSpec s, int first, int rows, ByteBuffer region, long seed, AtomicLong done,
            LongConsumer progress) {
        QuantFormat format = QuantFormats.of(s.type);
        long rowBytes = s.type.bytesFor(s.cols);
        float bound = s.norm ? 0.1f : s.name.startsWith("token_embd") ? 1f : (float) Math.sqrt(3.0 / s.cols);
        int chunk = Math.max(1, (1 << 16) / s.cols);
        IntStream.range(0, (rows + chunk - 1) / chunk).parallel().forEach(c -> {
            float[] row = new float[s.cols];
            ByteBuffer view = region.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (int local = c * chunk; local < Math.min(rows, (c + 1) * chunk); local++) {
                SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + first + local);
                for (int i = 0; i < s.cols; i++) {
                    float u = (float) (random.nextDouble() * 2 - 1) * bound;
                    row[i] = s.norm ? 1 + u : u;
                }
                format.quantize(row, 0, view, (int) (local * rowBytes), s.cols);
            }
            progress.accept(done.addAndGet((long) s.cols * (Math.min(rows, (c + 1) * chunk) - c * chunk)));
        });
    }

    private static void metadata(GgufWriter w, Preset p, GgmlType type) {
        String a = "llama.";
        w.put("general.architecture", GgufValue.string("llama"));
        w.put("general.name", GgufValue.string("spanker-synth-" + p.name() + "-" + type.ggmlName()));
        w.put(a + "context_length", GgufValue.u32(p.contextLength()));
        w.put(a + "embedding_length", GgufValue.u32(p.embedding()));
        w.put(a + "block_count", GgufValue.u32(p.layers()));
        w.put(a + "feed_forward_length", GgufValue.u32(p.feedForward()));
        w.put(a + "attention.head_count", GgufValue.u32(p.heads()));
        w.put(a + "attention.head_count_kv", GgufValue.u32(p.kvHeads()));
        w.put(a + "attention.layer_norm_rms_epsilon", GgufValue.f32(1e-5f));
        w.put(a + "rope.freq_base", GgufValue.f32(10000f));
        w.put(a + "rope.dimension_count", GgufValue.u32(p.embedding() / p.heads()));
        w.put(a + "vocab_size", GgufValue.u32(p.vocabulary()));
        String[] tokens = vocabulary(p.vocabulary());
        float[] scores = new float[tokens.length];
        int[] types = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 3 + 256 ? 6 : 1;
            scores[i] = i < 3 + 256 ? 0 : -(i - 3 - 256);
        }
        w.put("tokenizer.ggml.model", GgufValue.string("llama"));
        w.put("tokenizer.ggml.pre", GgufValue.string("default"));
        w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        w.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.u32(1));
        w.put("tokenizer.ggml.eos_token_id", GgufValue.u32(2));
        w.put("tokenizer.ggml.unknown_token_id", GgufValue.u32(0));
        w.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        w.put("tokenizer.ggml.add_eos_token", GgufValue.bool(false));
        w.put("general.quantization_version", GgufValue.u32(2));
    }

    private static final String WORDS = "the of and to in is was for that on as with by he at from his it an were are"
            + " which this be or has had not first one their its new after who they have her she two been other when"
            + " there all also into during time more only years but most some would can about world city year such"
            + " these may many over then between where three made later than state part known both under used while"
            + " hello spanker sail sails card cards ring mesh token tokens model llama run plan link links host data"
            + " fast slow good great small large light wind sea ship boat mast rope deck water river day night";

    /**
     * {@code <unk> <s> </s>}, the 256 byte tokens, then pieces best-first: common words with the word-start mark,
     * single characters with and without it, then letter pairs and triples, until {@code size} tokens.
     */
    static String[] vocabulary(int size) {
        Set<String> pieces = new LinkedHashSet<>();
        pieces.add("<unk>");
        pieces.add("<s>");
        pieces.add("</s>");
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format(Locale.ROOT, "<0x%02X>", b));
        }
        String mark = "\u2581";
        pieces.add(mark);
        for (char ch = 0x21; ch < 0x7f; ch++) {
            pieces.add(String.valueOf(ch));
            pieces.add(mark + ch);
        }
        for (String word : WORDS.split(" ")) {
            pieces.add(mark + word);
            pieces.add(mark + Character.toUpperCase(word.charAt(0)) + word.substring(1));
        }
        String letters = "etaoinshrdlcumwfgypbvkjxqz";
        outer:
        for (int length = 2; length <= 4; length++) {
            for (int n = 0; n < Math.pow(letters.length(), length); n++) {
                StringBuilder sb = new StringBuilder();
                int v = n;
                for (int i = 0; i < length; i++) {
                    sb.append(letters.charAt(v % letters.length()));
                    v /= letters.length();
                }
                if (pieces.size() >= size) {
                    break outer;
                }
                pieces.add(sb.toString());
                if (pieces.size() >= size) {
                    break outer;
                }
                pieces.add(mark + sb);
            }
        }
        if (pieces.size() < size) {
            throw new IllegalArgumentException("cannot make a vocabulary of " + size + " pieces");
        }
        return pieces.stream().limit(size).toArray(String[]::new);
    }
}
