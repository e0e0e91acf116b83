package org.popsolutions.spanker.ggml.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.popsolutions.spanker.api.ErrorKind;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/** A corpus of hand-made bad files: each must be refused with an InvalidModelException whose message says why. */
class MalformedGgufTest {
    static final int F32 = GgmlType.F32.id();
    static final int Q4_0 = GgmlType.Q4_0.id();

    /** name → (bytes, a fragment the message must contain) */
    static Map<String, Object[]> corpus() {
        Map<String, Object[]> c = new LinkedHashMap<>();
        c.put("empty file", new Object[] {new byte[0], "too short"});
        c.put("bad magic", new Object[] {"GGML\3\0\0\0".getBytes(), "magic"});
        c.put("version 1", new Object[] {RawGguf.header(1, 0, 0).bytes(), "version 1"});
        c.put("version 4", new Object[] {RawGguf.header(4, 0, 0).bytes(), "unsupported GGUF version 4"});
        c.put("big-endian", new Object[] {RawGguf.header(0x03000000, 0, 0).bytes(), "big-endian"});
        c.put("truncated header", new Object[] {Arrays.copyOf(RawGguf.header(3, 0, 0).bytes(), 20), "truncated"});
        c.put("absurd kv count", new Object[] {RawGguf.header(3, 0, 1L << 60).bytes(), "metadata count"});
        c.put("negative tensor count", new Object[] {RawGguf.header(3, -1, 0).bytes(), "tensor count"});
        c.put("huge key length", new Object[] {RawGguf.header(3, 0, 1).i64(Long.MAX_VALUE).zeros(8).bytes(),
                "claims"});
        c.put("empty key", new Object[] {RawGguf.header(3, 0, 1).str("").i32(4).i32(1).bytes(), "empty key"});
        c.put("unknown value type", new Object[] {RawGguf.header(3, 0, 1).str("k").i32(13).i32(0).bytes(),
                "unknown value type 13"});
        c.put("unknown array type", new Object[] {RawGguf.header(3, 0, 1).str("k").i32(9).i32(42).i64(0).bytes(),
                "unknown array element type 42"});
        c.put("absurd array length", new Object[] {RawGguf.header(3, 0, 1).str("k").i32(9).i32(4).i64(1L << 40)
                .zeros(16).bytes(), "claims"});
        c.put("string array longer than the file", new Object[] {RawGguf.header(3, 0, 1).str("k").i32(9).i32(8)
                .i64(1000).str("a").bytes(), "claims 1000"});
        c.put("bool of 2", new Object[] {RawGguf.header(3, 0, 1).str("k").i32(7).i8(2).bytes(), "expected 0 or 1"});
        c.put("duplicate key", new Object[] {RawGguf.header(3, 0, 2).kvU32("k", 1).kvU32("k", 2).bytes(),
                "duplicate metadata key 'k'"});
        RawGguf deep = RawGguf.header(3, 0, 1).str("k").i32(9);
        for (int i = 0; i < 12; i++) {
            deep.i32(9).i64(1);
        }
        c.put("arrays nested too deep", new Object[] {deep.i32(4).i64(0).bytes(), "deeper"});
        c.put("alignment not a power of two", new Object[] {RawGguf.header(3, 0, 1).kvU32("general.alignment", 24)
                .bytes(), "power of two"});
        c.put("alignment zero", new Object[] {RawGguf.header(3, 0, 1).kvU32("general.alignment", 0).bytes(),
                "power of two"});
        c.put("alignment of wrong type", new Object[] {RawGguf.header(3, 0, 1).str("general.alignment").i32(5).i32(32)
                .bytes(), "must be a uint32"});
        c.put("zero dimensions", new Object[] {RawGguf.header(3, 1, 0).str("t").i32(0).i32(F32).i64(0).zeros(64)
                .bytes(), "0 dimensions"});
        c.put("five dimensions", new Object[] {RawGguf.header(3, 1, 0).tensor("t", F32, 0, 1, 1, 1, 1, 1).padTo(32)
                .zeros(32).bytes(), "5 dimensions"});
        c.put("negative dimension", new Object[] {RawGguf.header(3, 1, 0).tensor("t", F32, 0, 4, -2).padTo(32)
                .zeros(32).bytes(), "negative"});
        c.put("overflowing shape", new Object[] {RawGguf.header(3, 1, 0).tensor("t", F32, 0, 1L << 40, 1L << 40)
                .padTo(32).bytes(), "overflows"});
        c.put("byte size overflow", new Object[] {RawGguf.header(3, 1, 0).tensor("t", F32, 0, 1L << 62).padTo(32)
                .bytes(), "overflows"});
        c.put("unknown tensor type", new Object[] {RawGguf.header(3, 1, 0).tensor("t", 4, 0, 32).padTo(32).zeros(32)
                .bytes(), "unknown ggml type id 4"});
        c.put("row not a whole block", new Object[] {RawGguf.header(3, 1, 0).tensor("t", Q4_0, 0, 31).padTo(32)
                .zeros(32).bytes(), "multiple of its block size"});
        c.put("misaligned offset", new Object[] {RawGguf.header(3, 1, 0).tensor("t", F32, 4, 1).padTo(32).zeros(32)
                .bytes(), "not a multiple of the alignment"});
        c.put("tensor past end of file", new Object[] {RawGguf.header(3, 1, 0).tensor("t", F32, 0, 64).padTo(32)
                .zeros(100).bytes(), "outside the file"});
        c.put("tensor offset past end of file", new Object[] {RawGguf.header(3, 1, 0).tensor("t", F32, 1L << 40, 8)
                .padTo(32).zeros(32).bytes(), "outside the file"});
        c.put("overlapping tensors", new Object[] {RawGguf.header(3, 2, 0).tensor("a", F32, 0, 16)
                .tensor("b", F32, 32, 16).padTo(32).zeros(128).bytes(), "overlaps tensor 'a'"});
        c.put("duplicate tensor name", new Object[] {RawGguf.header(3, 2, 0).tensor("a", F32, 0, 8)
                .tensor("a", F32, 32, 8).padTo(32).zeros(64).bytes(), "duplicate tensor name 'a'"});
        c.put("truncated tensor table", new Object[] {Arrays.copyOf(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 8)
                .bytes(), 40), "impossible with 16 bytes left"});
        return c;
    }

    static Object[][] cases() {
        return corpus().entrySet().stream().map(e -> new Object[] {e.getKey(), e.getValue()[0], e.getValue()[1]})
                .toArray(Object[][]::new);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedWithAPreciseMessage(String name, byte[] bytes, String fragment) {
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> GgufReader.read(bytes));
        assertEquals(ErrorKind.INVALID_MODEL, e.kind());
        assertTrue(e.getMessage().contains(fragment), name + ": message '" + e.getMessage() + "' lacks '" + fragment
                + "'");
    }

    @ParameterizedTest(name = "{0} (from a file)")
    @MethodSource("cases")
    void refusedFromAFileToo(String name, byte[] bytes, String fragment, @TempDir Path dir) throws Exception {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, bytes);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> GgufReader.open(p));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void everyTruncationOfAValidFileIsRefused() {
        byte[] valid = FuzzGgufTest.smallValidFile();
        GgufFile f = GgufReader.read(valid);
        long end = f.tensors().stream().mapToLong(t -> f.dataOffset() + t.offset() + t.byteSize()).max().orElseThrow();
        // like llama.cpp's loader, a file may end right after its last tensor, without the final padding
        assertTrue(end < valid.length);
        GgufReader.read(Arrays.copyOf(valid, (int) end));
        for (int n = 0; n < end; n++) {
            byte[] cut = Arrays.copyOf(valid, n);
            InvalidModelException e = assertThrows(InvalidModelException.class, () -> GgufReader.read(cut),
                    "prefix of " + n + " bytes");
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("outside the file")
                    || e.getMessage().contains("too short") || e.getMessage().contains("impossible with")
                    || e.getMessage().contains("claims"), n + ": " + e.getMessage());
        }
    }

    @Test
    void missingFileIsAnInvalidModel(@TempDir Path dir) throws Exception {
        // one answer for open (run, logits) and readHeader (plan, gguf): the path and "no such file"
        Path missing = dir.resolve("nope.gguf");
        for (var read : List.<java.util.function.Function<Path, GgufFile>>of(GgufReader::open, GgufReader::readHeader)) {
            InvalidModelException e = assertThrows(InvalidModelException.class, () -> read.apply(missing));
            assertEquals("model file " + missing + ": no such file", e.getMessage());
            // a folder or a FIFO is refused, not opened (a FIFO without a writer would block forever)
            e = assertThrows(InvalidModelException.class, () -> read.apply(dir));
            assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
        }
        Path fifo = dir.resolve("fifo.gguf");
        if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0) {
            InvalidModelException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                    () -> assertThrows(InvalidModelException.class, () -> GgufReader.open(fifo)));
            assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        }
    }

    @Test
    void writerRefusesInconsistentTensors() {
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter().tensor("t", GgmlType.F32, new long[] {4},
                ByteBuffer.allocate(8)));
    }
}
