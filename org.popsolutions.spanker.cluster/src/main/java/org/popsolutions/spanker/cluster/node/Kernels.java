package org.popsolutions.spanker.cluster.node;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.LongBinaryOperator;
import org.popsolutions.spanker.api.cluster.ClusterTask;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.TaskContext;

/** The built-in kernels every node process registers: element-wise arithmetic, reads, identity, and the programs. */
final class Kernels {
    static final String ADD = "linqu.add";
    static final String MUL = "linqu.mul";
    static final String ADD_SCALAR = "linqu.add_scalar";
    static final String FILL = "linqu.fill";
    static final String SUM = "linqu.sum";
    static final String READ = "linqu.read";
    static final String IDENTITY = "linqu.identity";
    /** Size of one identity record: level u8, l5 u8, l4 u8, l3 u16, global i32, pid i64. */
    static final int IDENTITY_BYTES = 17;

    private Kernels() {
    }

    static void registerAll(TaskServices services, Layout layout, java.nio.file.Path directory) {
        services.register(ADD, elementWise(Long::sum));
        services.register(MUL, elementWise((x, y) -> x * y));
        services.register(ADD_SCALAR, Kernels::addScalar);
        services.register(FILL, Kernels::fill);
        services.register(SUM, Kernels::sum);
        services.register(READ, context -> context.input(0));
        services.register(IDENTITY, context -> identity(context, layout));
        Programs.registerAll(services, layout);
        if (pipelineClassesPresent()) {
            PipelineKernels.registerAll(services, directory);
        }
    }

    /**
     * The pipeline kernels read the model and cut its plan with the llama and ggml libraries (on a node's class path
     * when the process that started the cluster had them, NodeClasspath); they run it through the services of each
     * host's card runtime (HostRuntime).
     */
    private static boolean pipelineClassesPresent() {
        try {
            for (String type : new String[] {"org.popsolutions.spanker.model.llama.ManualPlans",
                "org.popsolutions.spanker.ggml.gguf.GgufReader"}) {
                Class.forName(type, false, Kernels.class.getClassLoader());
            }
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** INPUT x, INPUT y, OUTPUT z: z[i] = x[i] op y[i]. */
    private static ClusterTask elementWise(LongBinaryOperator op) {
        return context -> {
            long[] x = Longs.fromBytes(context.input(0));
            long[] y = Longs.fromBytes(context.input(1));
            if (x.length != y.length) {
                throw new IllegalArgumentException("inputs hold " + x.length + " and " + y.length + " elements");
            }
            long[] z = new long[x.length];
            for (int i = 0; i < z.length; i++) {
                z[i] = op.applyAsLong(x[i], y[i]);
            }
            context.output(2, Longs.toBytes(z));
            return new byte[0];
        };
    }

    /** INPUT x, SCALAR s, OUTPUT z: z[i] = x[i] + s. */
    private static byte[] addScalar(TaskContext context) {
        long[] x = Longs.fromBytes(context.input(0));
        long scalar = context.params().get(1).scalar();
        for (int i = 0; i < x.length; i++) {
            x[i] += scalar;
        }
        context.output(2, Longs.toBytes(x));
        return new byte[0];
    }

    /** OUTPUT x, SCALAR value, SCALAR milliseconds: x[i] = value, after sleeping (to hold a ring slot a while). */
    private static byte[] fill(TaskContext context) throws InterruptedException {
        long value = context.params().get(1).scalar();
        long millis = context.params().get(2).scalar();
        long[] x = new long[(int) (context.params().get(0).scalar() / 8)];
        java.util.Arrays.fill(x, value);
        if (millis > 0) {
            Thread.sleep(millis);
        }
        context.output(0, Longs.toBytes(x));
        return new byte[0];
    }

    /** INPUT x: returns the sum of x as 8 bytes. */
    private static byte[] sum(TaskContext context) {
        long total = 0;
        for (long value : Longs.fromBytes(context.input(0))) {
            total += value;
        }
        return Longs.toBytes(new long[] {total});
    }

    /** Returns this L3 host's identity record. */
    private static byte[] identity(TaskContext context, Layout layout) {
        Coordinate self = context.self();
        if (self.level() != Level.HOST) {
            throw new IllegalStateException("identity runs on L3 hosts; " + self + " is L" + self.level().number());
        }
        return ByteBuffer.allocate(IDENTITY_BYTES).put((byte) 3).put((byte) self.l5()).put((byte) self.l4())
                .putShort((short) self.l3()).putInt(self.globalId(layout.pods(), layout.hosts()))
                .putLong(context.pid()).array();
    }

    /** Splits a task group's joined result (u32 length + bytes per sub-task). */
    static List<byte[]> parts(byte[] joined, int count) {
        if (count == 1) {
            return List.of(joined);
        }
        ByteBuffer buffer = ByteBuffer.wrap(joined);
        java.util.ArrayList<byte[]> parts = new java.util.ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] part = new byte[buffer.getInt()];
            buffer.get(part);
            parts.add(part);
        }
        return parts;
    }
}
