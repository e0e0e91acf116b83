package org.popsolutions.spanker.ggml.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * Seeded mutation fuzzing of the reader: 100 000 mutants of a small valid file (bit flips, interesting values at
 * field-sized positions, insertions, deletions, duplications, truncations) must each either read successfully or
 * fail with an InvalidModelException, never anything else. A failure names the seed so it can be replayed.
 */
public class FuzzGgufTest {
    static final int CASES = 100_000;
    static final long[] INTERESTING = {0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 31, 32, 33, 64, 255, 256, 0x7f, 0x80, 0xff,
            0x7fff, 0x8000, 0xffff, Integer.MAX_VALUE, 0x80000000L, 0xffffffffL, 1L << 32, 1L << 40, Long.MAX_VALUE,
            Long.MIN_VALUE, -1, -2};

    static byte[] smallValidFile() {
        float[] values = new float[64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i - 30) / 7f;
        }
        return new GgufWriter()
                .put("general.architecture", GgufValue.string("llama"))
                .put("general.alignment", GgufValue.u32(32))
                .put("llama.block_count", GgufValue.u32(1))
                .put("eps", GgufValue.f32(1e-5f))
                .put("flag", GgufValue.bool(true))
                .put("tokens", GgufValue.array(GgufValueType.STRING, new String[] {"<unk>", "<s>", "a"}))
                .put("scores", GgufValue.array(GgufValueType.FLOAT32, new float[] {0, -1, -2}))
                .put("nested", GgufValue.array(GgufValueType.ARRAY, new GgufArray[] {
                        new GgufArray(GgufValueType.INT16, new short[] {1, 2})}))
                .put("big", GgufValue.u64(1L << 40))
                .tensor("norm", GgmlType.F32, new long[] {8}, ByteBuffer.wrap(QuantFormats.of(GgmlType.F32)
                        .quantize(Arrays.copyOf(values, 8))))
                .tensor("w", GgmlType.Q8_0, new long[] {32, 2}, ByteBuffer.wrap(QuantFormats.of(GgmlType.Q8_0)
                        .quantize(values)))
                .tensor("h", GgmlType.F16, new long[] {4, 2, 1, 1}, ByteBuffer.wrap(QuantFormats.of(GgmlType.F16)
                        .quantize(Arrays.copyOf(values, 8))))
                .toBytes();
    }

    @Test
    void hundredThousandMutantsOnlyEverReadOrFailAsInvalidModel() {
        byte[] seed = smallValidFile();
        SplittableRandom random = new SplittableRandom(0x5eed);
        int accepted = 0;
        for (int c = 0; c < CASES; c++) {
            long caseSeed = random.nextLong();
            byte[] mutant = mutate(seed, new SplittableRandom(caseSeed));
            try {
                GgufFile f = GgufReader.read(mutant);
                touchEverything(f, mutant);
                accepted++;
            } catch (InvalidModelException expected) {
                // the one allowed failure
            } catch (Throwable t) {
                fail("mutant " + c + " (case seed " + caseSeed + ", " + mutant.length + " bytes) threw " + t, t);
            }
        }
        // the mutations must not be so destructive that nothing parses, nor so mild that everything does
        assertTrue(accepted > CASES / 50 && accepted < CASES * 9 / 10, accepted + " of " + CASES + " accepted");
    }

    @Test
    void mutantsFromFilesThroughTheMappingPath(@TempDir Path dir) throws Exception {
        byte[] seed = smallValidFile();
        SplittableRandom random = new SplittableRandom(0xf11e);
        Path p = dir.resolve("mutant.gguf");
        for (int c = 0; c < 500; c++) {
            long caseSeed = random.nextLong();
            byte[] mutant = mutate(seed, new SplittableRandom(caseSeed));
            Files.write(p, mutant);
            try {
                touchEverything(GgufReader.open(p), mutant);
            } catch (InvalidModelException expected) {
                // fine
            } catch (Throwable t) {
                fail("file mutant " + c + " (case seed " + caseSeed + ") threw " + t, t);
            }
        }
    }

    /**
     * Reads every value and every tensor byte of an accepted file, and checks that each tensor's view holds exactly
     * the file's bytes at the data section's offset plus the tensor's offset (a view of the wrong region fails).
     */
    static void touchEverything(GgufFile f, byte[] file) {
        f.metadata().forEach((k, v) -> assertNotNull(v.toString(), k));
        for (GgufTensorInfo t : f.tensors()) {
            ByteBuffer b = f.data(t);
            assertEquals(t.byteSize(), b.capacity(), t.name());
            long at = f.dataOffset() + t.offset();
            // (an empty tensor's offset is never read, so the reader does not bound it)
            assertTrue(t.byteSize() == 0 || at >= 0 && at + t.byteSize() <= file.length, t.name()
                    + " lies outside the file");
            for (int i = 0; i < b.capacity(); i++) {
                if (b.get(i) != file[(int) (at + i)]) {
                    fail("tensor '" + t.name() + "' byte " + i + " is " + b.get(i) + ", the file holds "
                            + file[(int) (at + i)] + " at offset " + (at + i));
                }
            }
            if (t.type().computable() && t.byteSize() > 0 && t.byteSize() < 1 << 20) {
                float[] out = new float[(int) t.elementCount()];
                QuantFormats.of(t.type()).dequantize(b, 0, out, 0, out.length);
            }
        }
    }

    public static byte[] mutate(byte[] original, SplittableRandom r) {
        byte[] b = original.clone();
        int operations = 1 + r.nextInt(3);
        for (int op = 0; op < operations; op++) {
            if (b.length == 0) {
                return b;
            }
            switch (r.nextInt(8)) {
                case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[r.nextInt(b.length)] = (byte) INTERESTING[r.nextInt(INTERESTING.length)];
                case 2, 3 -> { // a field-sized interesting value, often where the header's fields are
                    int width = r.nextBoolean() ? 8 : 4;
                    int at = r.nextInt(3) == 0 ? r.nextInt(Math.max(1, Math.min(b.length, 512))) : r.nextInt(b.length);
                    long v = INTERESTING[r.nextInt(INTERESTING.length)];
                    for (int i = 0; i < width && at + i < b.length; i++) {
                        b[at + i] = (byte) (v >>> (8 * i));
                    }
                }
                case 4 -> b = Arrays.copyOf(b, r.nextInt(b.length));
                case 5 -> { // insert random bytes
                    int at = r.nextInt(b.length + 1);
                    int n = 1 + r.nextInt(16);
                    byte[] out = new byte[b.length + n];
                    System.arraycopy(b, 0, out, 0, at);
                    for (int i = 0; i < n; i++) {
                        out[at + i] = (byte) r.nextInt(256);
                    }
                    System.arraycopy(b, at, out, at + n, b.length - at);
                    b = out;
                }
                case 6 -> { // delete a range
                    int at = r.nextInt(b.length);
                    int n = Math.min(b.length - at, 1 + r.nextInt(16));
                    byte[] out = new byte[b.length - n];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + n, out, at, b.length - at - n);
                    b = out;
                }
                default -> { // copy a chunk over another place
                    int from = r.nextInt(b.length);
                    int to = r.nextInt(b.length);
                    int n = Math.min(Math.min(b.length - from, b.length - to), 1 + r.nextInt(32));
                    System.arraycopy(b, from, b, to, n);
                }
            }
        }
        return b;
    }
}
