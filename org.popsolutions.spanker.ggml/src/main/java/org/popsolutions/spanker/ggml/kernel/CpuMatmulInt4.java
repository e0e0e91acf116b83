package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.compute.Int4Format;
import org.popsolutions.spanker.api.compute.MatmulInt4;
import org.popsolutions.spanker.api.config.ConfigProperties;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * {@link MatmulInt4} on the host CPU with the ggml kernels: each B row is decoded to float32 once and multiplied
 * by every A row in float-activation mode (both operands exact as ggml decodes them), rows of A in parallel.
 */
@Component(service = MatmulInt4.class, configurationPid = CpuMatmulInt4.PID)
@Designate(ocd = CpuMatmulInt4.Config.class)
public final class CpuMatmulInt4 implements MatmulInt4 {
    public static final String PID = "org.popsolutions.spanker.ggml.matmul";

    @ObjectClassDefinition(name = "Spanker CPU int4 matmul")
    public @interface Config {
        @AttributeDefinition(description = "worker threads across rows of A (0 = one per available processor)")
        int threads() default 0;
    }

    private final Kernels kernels;
    private RowExecutor executor;

    public CpuMatmulInt4() {
        this(Kernels.best(), 0);
    }

    /** For use without OSGi (tests, commands). */
    public CpuMatmulInt4(Kernels kernels, int threads) {
        this.kernels = kernels;
        this.executor = new RowExecutor(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
    }

    /** More row workers than this is a typing error, not a machine: refused, the previous pool stays. */
    static final int MAX_THREADS = 1024;

    @Activate
    @Modified
    void configure(Map<String, Object> properties) {
        int threads;
        try {
            threads = new ConfigProperties(PID, properties).intWithin("threads", 0, 0, MAX_THREADS);
        } catch (InvalidConfigurationException e) {
            System.err.println("spanker int4 matmul: configuration refused, keeping " + executor.threads()
                    + " threads: " + e.getMessage());
            return;
        }
        executor.close();
        executor = new RowExecutor(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
    }

    /** The row workers in use. */
    int threads() {
        return executor.threads();
    }

    @Deactivate
    void deactivate() {
        executor.close();
    }

    @Override
    public void matmul(Int4Format format, long m, long k, long n, ByteBuffer a, ByteBuffer b, ByteBuffer out) {
        GgmlType type = typeOf(format);
        MatmulInt4.checkArguments(format, m, k, n, a, b, out);
        if (m > Integer.MAX_VALUE || n > Integer.MAX_VALUE || k > Integer.MAX_VALUE) {
            throw new BadDimsException("matmul " + m + "x" + k + "x" + n + " of " + format.name()
                    + ": dimensions above 2^31 - 1 are not supported on the host path");
        }
        long aBytes = MatmulInt4.operandBytes(format, m, k);
        long bBytes = MatmulInt4.operandBytes(format, n, k);
        if (m == 0 || n == 0) {
            return;
        }
        if (aBytes > Integer.MAX_VALUE || bBytes > Integer.MAX_VALUE) {
            throw new BadDimsException("operands above 2 GiB are not supported on the host path");
        }
        int rows = (int) m;
        int cols = (int) k;
        long rowBytes = type.bytesFor(k);
        ByteBuffer aRows = a.slice().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bRows = b.slice().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer result = out.slice().order(ByteOrder.LITTLE_ENDIAN);
        float[] bRow = new float[cols];
        Kernels kernels = KernelSelector.resolve(this.kernels);
        for (int j = 0; j < n; j++) {
            QuantFormats.of(type).dequantize(bRows, (int) (j * rowBytes), bRow, 0, cols);
            PreparedActivation activation = PreparedActivation.prepare(type, DotMode.FLOAT, bRow);
            int column = j;
            executor.forRows(rows, (from, to) -> {
                for (int i = from; i < to; i++) {
                    result.putFloat((int) ((i * n + column) * 4), kernels.dot(aRows, (int) (i * rowBytes), activation));
                }
            });
        }
    }

    static GgmlType typeOf(Int4Format format) {
        if (format.equals(Int4Format.Q4_0)) {
            return GgmlType.Q4_0;
        }
        if (format.equals(Int4Format.Q4_K)) {
            return GgmlType.Q4_K;
        }
        throw new BadDimsException("unsupported int4 format " + format + "; supported: Q4_0, Q4_K");
    }
}
