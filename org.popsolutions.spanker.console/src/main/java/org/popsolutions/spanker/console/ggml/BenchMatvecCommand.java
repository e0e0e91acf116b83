package org.popsolutions.spanker.console.ggml;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * Matrix-vector throughput as in decode: enough copies of a rows×cols weight matrix to exceed the last-level
 * cache several times over, multiplied in turn, so every pass streams its weights from DRAM.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=bench-matvec")
public final class BenchMatvecCommand extends AbstractConsoleCommand {
    public BenchMatvecCommand() {
        super("bench-matvec", "matrix-vector throughput (seconds, GFLOP/s, GB/s of weights streamed) with weights"
                + " larger than the last-level cache",
                List.of(OptionSpec.choice("type", CommandFiles.WEIGHT_FORMATS, "weight format", "q4_0"),
                        OptionSpec.value("rows", "R", "rows of the weight matrix", "4096"),
                        OptionSpec.value("cols", "C", "columns (values per row)", "4096"),
                        OptionSpec.value("threads", "N", "worker threads", "1"),
                        OptionSpec.choice("mode", List.of("ggml", "float"), "activation handling", "ggml"),
                        OptionSpec.value("passes", "P", "timed matrix-vector products", "enough for ~2 s"),
                        OptionSpec.choice("kernels", List.of("best", "scalar"), "kernel set", "best"),
                        MeanSd.OPTION));
    }

    @Override
    protected Report run(Arguments arguments) {
        GgmlType type = GgmlType.byName(arguments.string("type").orElse("q4_0")).orElseThrow();
        int rows = arguments.integer("rows", 4096);
        int cols = arguments.integer("cols", 4096);
        int threads = arguments.integer("threads", 1);
        DotMode mode = arguments.string("mode").orElse("ggml").equals("float") ? DotMode.FLOAT : DotMode.GGML;
        Kernels kernels = arguments.string("kernels").orElse("best").equals("scalar") ? Kernels.scalar()
                : Kernels.best();
        BenchInputs.checkShape(type, rows, cols, threads);
        long matrixBytes = type.bytesFor((long) rows * cols);
        if (matrixBytes > Integer.MAX_VALUE) {
            throw new UsageException("one matrix would be " + matrixBytes + " bytes; keep it below 2 GiB");
        }
        int passes = arguments.integer("passes").orElse(0);
        if (arguments.has("passes") && passes < 1) {
            throw new UsageException("--passes must be >= 1, got " + passes);
        }
        int repetitions = MeanSd.repetitions(arguments);
        CommandFiles.requireHeap(matrixBytes, "one " + rows + " x " + cols + " " + type.ggmlName() + " matrix");
        long cache = lastLevelCacheBytes();
        // as many copies as exceed the cache, but no more than half the free heap holds
        Runtime runtime = Runtime.getRuntime();
        long free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        int copies = (int) Math.max(1, Math.min(Math.min(64, free / 2 / matrixBytes),
                (4 * cache + matrixBytes - 1) / matrixBytes));
        ByteBuffer[] matrices = new ByteBuffer[copies];
        SplittableRandom random = new SplittableRandom(42);
        ByteBuffer first = BenchInputs.randomMatrix(type, rows, cols, random);
        for (int i = 0; i < copies; i++) {
            matrices[i] = i == 0 ? first : ByteBuffer.allocate((int) matrixBytes).order(ByteOrder.LITTLE_ENDIAN)
                    .put(first.duplicate().clear()).clear();
        }
        float[] x = BenchInputs.gaussian(cols, random);
        float[] out = new float[rows];
        try (RowExecutor executor = new RowExecutor(threads)) {
            MatVec matvec = new MatVec(kernels, executor);
            long warmupEnd = System.nanoTime() + 500_000_000L;
            int warm = 0;
            while (System.nanoTime() < warmupEnd || warm < copies) {
                matvec.matvec(type, matrices[warm++ % copies], rows, cols, x, out, mode);
            }
            double[] perMatvec = new double[repetitions];
            int done = 0;
            for (int r = 0; r < repetitions; r++) {
                long start = System.nanoTime();
                int pass = 0;
                while (passes > 0 ? pass < passes : System.nanoTime() - start < 2_000_000_000L || pass < copies) {
                    matvec.matvec(type, matrices[(done + pass) % copies], rows, cols, x, out, mode);
                    pass++;
                }
                perMatvec[r] = (System.nanoTime() - start) / 1e9 / pass;
                done += pass;
            }
            double[] gflopsEach = new double[repetitions];
            double[] gbpsEach = new double[repetitions];
            for (int r = 0; r < repetitions; r++) {
                gflopsEach[r] = 2.0 * rows * cols / perMatvec[r] / 1e9;
                gbpsEach[r] = matrixBytes / perMatvec[r] / 1e9;
            }
            MeanSd seconds = MeanSd.of(perMatvec);
            MeanSd gflops = MeanSd.of(gflopsEach);
            MeanSd gbps = MeanSd.of(gbpsEach);
            // a mean and its spread are two facts: a column each (the spread is 0 for one repetition)
            Rows result = new Rows("result", "bench-matvec " + type.ggmlName() + " " + rows + "x" + cols
                    + (repetitions > 1 ? ", " + repetitions + " repetitions (mean, sd)" : ""),
                    Column.of("threads", "threads"), Column.of("kernels", "kernels"), Column.of("mode", "mode"),
                    Column.of("seconds", "s/matvec", Unit.SCIENTIFIC), Column.of("secondsSd", "± sd", Unit.SCIENTIFIC),
                    Column.of("gflops", "GFLOP/s", Unit.FIXED_2), Column.of("gflopsSd", "± sd", Unit.FIXED_2),
                    Column.of("gbps", "GB/s weights", Unit.FIXED_2), Column.of("gbpsSd", "± sd", Unit.FIXED_2),
                    Column.of("copies", "matrices"), Column.of("weightBytes", "bytes each", Unit.BYTES))
                    .as(Rows.Layout.FIELDS)
                    .add(threads, kernels.name(), mode.name().toLowerCase(), seconds.mean(), seconds.sd(), gflops.mean(),
                            gflops.sd(), gbps.mean(), gbps.sd(), copies, matrixBytes);
            return new Report().put("type", type.ggmlName()).put("rows", rows).put("cols", cols).rows(result)
                    .put("passes", done).put("repetitions", repetitions).put("llcBytes", cache)
                    .put("checksum", Arrays.stream(toDoubles(out)).sum());
        }
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** From sysfs (Linux), else 32 MiB. */
    static long lastLevelCacheBytes() {
        long best = 0;
        for (int index = 0; index < 8; index++) {
            Path p = Path.of("/sys/devices/system/cpu/cpu0/cache/index" + index + "/size");
            try {
                if (Files.isReadable(p)) {
                    String s = Files.readString(p).trim().toUpperCase();
                    long mult = s.endsWith("K") ? 1024 : s.endsWith("M") ? 1024 * 1024 : 1;
                    best = Math.max(best, Long.parseLong(s.replaceAll("[^0-9]", "")) * mult);
                }
            } catch (IOException | NumberFormatException e) {
                // fall through to the default
            }
        }
        return best > 0 ? best : 32L << 20;
    }
}
