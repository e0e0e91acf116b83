package org.popsolutions.spanker.console.ggml;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.plan.PromptPass;
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
 * Matrix-matrix throughput as in a prompt pass: a rows×cols weight matrix times {@code --vectors} float activation
 * vectors, in passes of at most {@link PromptPass#MAX_TOKENS} vectors as the prompt runs them (each pass quantizes its
 * vectors, then multiplies: {@link MatVec.Product#run}). The figure to set beside ggml's {@code test-backend-ops perf
 * -o MUL_MAT -p "type_a=T,type_b=f32,m=rows,n=vectors,k=cols"}, which also quantizes its f32 activations inside the
 * op. Beside the wall time, the calling thread's CPU time per product (on one thread the whole product runs there: a
 * figure a loaded machine disturbs less than the wall time).
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=bench-matmul")
public final class BenchMatmulCommand extends AbstractConsoleCommand {
    public BenchMatmulCommand() {
        super("bench-matmul", "matrix-matrix throughput (microseconds per product, GFLOP/s) of a prompt's vectors, in"
                + " the prompt's passes, activation quantization included",
                List.of(OptionSpec.choice("type", CommandFiles.WEIGHT_FORMATS, "weight format", "q4_0"),
                        OptionSpec.value("rows", "R", "rows of the weight matrix", "2048"),
                        OptionSpec.value("cols", "C", "columns (values per row)", "2048"),
                        OptionSpec.value("vectors", "V", "activation vectors (a prompt's tokens)", "128"),
                        OptionSpec.value("threads", "N", "worker threads", "1"),
                        OptionSpec.value("seconds", "S", "timed seconds per repetition", "1"),
                        OptionSpec.choice("kernels", List.of("best", "scalar"), "kernel set", "best"),
                        MeanSd.OPTION));
    }

    @Override
    protected Report run(Arguments arguments) {
        GgmlType type = GgmlType.byName(arguments.string("type").orElse("q4_0")).orElseThrow();
        int rows = arguments.integer("rows", 2048);
        int cols = arguments.integer("cols", 2048);
        int vectors = arguments.integer("vectors", 128);
        int threads = arguments.integer("threads", 1);
        double seconds = Double.parseDouble(arguments.string("seconds").orElse("1"));
        Kernels kernels = arguments.string("kernels").orElse("best").equals("scalar") ? Kernels.scalar()
                : Kernels.best();
        BenchInputs.checkShape(type, rows, cols, threads);
        if (vectors < 1 || vectors > 4096) {
            throw new UsageException("--vectors must be 1..4096, got " + vectors);
        }
        if (!(seconds > 0 && seconds <= 600)) {
            throw new UsageException("--seconds must be within (0, 600], got " + seconds);
        }
        long matrixBytes = type.bytesFor((long) rows * cols);
        if (matrixBytes > Integer.MAX_VALUE || (long) vectors * Math.max(rows, cols) > Integer.MAX_VALUE / 4) {
            throw new UsageException("a " + rows + " x " + cols + " matrix and " + vectors
                    + " vectors are too large for one product here");
        }
        int repetitions = MeanSd.repetitions(arguments);
        CommandFiles.requireHeap(matrixBytes + 4L * vectors * ((long) rows + cols),
                "one " + rows + " x " + cols + " " + type.ggmlName() + " matrix and " + vectors + " vectors");
        SplittableRandom random = new SplittableRandom(42);
        ByteBuffer weights = BenchInputs.randomMatrix(type, rows, cols, random);
        float[] x = BenchInputs.gaussian(vectors * cols, random);
        float[] out = new float[vectors * rows];
        int pass = Math.min(vectors, PromptPass.MAX_TOKENS);
        try (RowExecutor executor = new RowExecutor(threads)) {
            MatVec.Product product = new MatVec(kernels, executor).product(type, rows, cols, pass, DotMode.GGML);
            Runnable once = () -> {
                for (int v = 0; v < vectors; v += pass) {
                    int count = Math.min(pass, vectors - v);
                    product.run(weights, x, v * cols, count, out, v * rows);
                }
            };
            long warmupEnd = System.nanoTime() + 500_000_000L;
            int warm = 0;
            while (System.nanoTime() < warmupEnd || warm < 3) {
                once.run();
                warm++;
            }
            double[] micros = new double[repetitions];
            double[] cpuMicros = new double[repetitions];
            ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
            int done = 0;
            for (int r = 0; r < repetitions; r++) {
                long start = System.nanoTime();
                long startCpu = cpu.getCurrentThreadCpuTime();
                int products = 0;
                while (System.nanoTime() - start < seconds * 1e9 || products < 3) {
                    once.run();
                    products++;
                }
                micros[r] = (System.nanoTime() - start) / 1e3 / products;
                cpuMicros[r] = (cpu.getCurrentThreadCpuTime() - startCpu) / 1e3 / products;
                done += products;
            }
            double[] gflops = new double[repetitions];
            for (int r = 0; r < repetitions; r++) {
                gflops[r] = 2.0 * rows * cols * vectors / micros[r] / 1e3;
            }
            MeanSd us = MeanSd.of(micros);
            MeanSd gf = MeanSd.of(gflops);
            MeanSd callerCpu = MeanSd.of(cpuMicros);
            Rows result = new Rows("result", "bench-matmul " + type.ggmlName() + " " + rows + "x" + cols + " x "
                    + vectors + " vectors" + (repetitions > 1 ? ", " + repetitions + " repetitions (mean, sd)" : ""),
                    Column.of("threads", "threads"), Column.of("kernels", "kernels"), Column.of("pass", "pass"),
                    Column.of("micros", "us/product", Unit.FIXED_2), Column.of("microsSd", "± sd", Unit.FIXED_2),
                    Column.of("gflops", "GFLOP/s", Unit.FIXED_2), Column.of("gflopsSd", "± sd", Unit.FIXED_2),
                    Column.of("callerCpuMicros", "caller CPU us/product", Unit.FIXED_2),
                    Column.of("callerCpuMicrosSd", "± sd", Unit.FIXED_2))
                    .as(Rows.Layout.FIELDS)
                    .add(threads, kernels.name(), pass, us.mean(), us.sd(), gf.mean(), gf.sd(), callerCpu.mean(),
                            callerCpu.sd());
            return new Report().put("type", type.ggmlName()).put("rows", rows).put("cols", cols)
                    .put("vectors", vectors).rows(result).put("products", done).put("repetitions", repetitions)
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
}
