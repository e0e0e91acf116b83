package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import org.popsolutions.spanker.ggml.quant.Q8_KFormat;

/**
 * Q8_K's activation quantizer ({@link Q8_KFormat#quantize}) as the prepared activations run it: in 256-bit lanes where
 * the portable kernels are the Vector API ones, else the format's own loop. Both give the same bytes. A prompt pass
 * quantizes every vector of its batch for each of a layer's four activations (one thread, Java 17, TinyLlama Q4_K, 128
 * tokens: the format's loop was 9 % of the prompt's time, about 2 ns a value; C2 does not vectorize it).
 */
abstract class Q8KLanes {
    static final Q8KLanes BEST = select();

    private static final Q8_KFormat FORMAT = new Q8_KFormat();

    /**
     * {@code count} values (whole blocks) of {@code src} from {@code srcAt} into {@code dst} (little-endian, over a
     * heap array) from byte 0, exactly as {@link Q8_KFormat#quantize} writes them.
     */
    abstract void quantize(float[] src, int srcAt, ByteBuffer dst, int count);

    /** One block by the format's loop (the lanes' fallback for blocks with a NaN or an infinity). */
    static void block(float[] src, int at, ByteBuffer dst, int out) {
        FORMAT.quantize(src, at, dst, out, Q8_KFormat.BLOCK);
    }

    private static Q8KLanes select() {
        if (!Boolean.getBoolean("spanker.kernels.scalar") && KernelSelector.vectorKernelsUsable()) {
            try {
                return (Q8KLanes) Class.forName("org.popsolutions.spanker.ggml.kernel.VectorQ8KLanes")
                        .getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                // no readable incubator module: the format's loop
            }
        }
        return new Plain();
    }

    /** The format's loop. */
    static final class Plain extends Q8KLanes {
        @Override
        void quantize(float[] src, int srcAt, ByteBuffer dst, int count) {
            FORMAT.quantize(src, srcAt, dst, 0, count);
        }
    }
}
