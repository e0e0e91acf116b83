package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.popsolutions.spanker.ggml.quant.Q8_KFormat;

/**
 * {@link Q8KLanes} in 256-bit lanes, each lane one value's arithmetic of {@link Q8_KFormat#quantize} (float multiply
 * by the block's inverse scale, round half to even by adding 1.5·2^23 and taking the low mantissa bits, at most 127,
 * the low byte kept), so the same bytes. The largest magnitude is the lanes' maximum, the same float as the format's
 * running one when no value is NaN or infinite (a block with one goes to the format's loop), and the first value of that
 * magnitude is the one the running "larger than the largest so far" picks. Loaded by name, only where the incubator
 * module is readable.
 */
final class VectorQ8KLanes extends Q8KLanes {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    /*
     * Every vector cast to its species' class: the Vector API's call sites are shared by all their callers, and where
     * other code ran them on other shapes first (a long-lived JVM) C2 boxed the vectors of a loop it could not pin to
     * one class (KernelAllocationTest's second probe).
     */
    private static final Class<? extends FloatVector> FC = exact(F);
    private static final Class<? extends IntVector> IC = exact(I);
    private static final Class<? extends ByteVector> BC = exact(B64);
    private static final int BLOCK = Q8_KFormat.BLOCK;
    /**
     * A thread's eight lanes of a 16-value sum, added as ints: with the sums taken by reduceLanes
     * the probe's packed Q4_K kernels boxed their vectors after a start on other shapes (KernelAllocationTest).
     */
    private static final ThreadLocal<int[]> LANES = ThreadLocal.withInitial(() -> new int[8]);

    @SuppressWarnings("unchecked")
    private static <E, V extends jdk.incubator.vector.Vector<E>> Class<V> exact(VectorSpecies<E> species) {
        return (Class<V>) (Class<?>) species.vectorType();
    }

    @Override
    void quantize(float[] src, int srcAt, ByteBuffer dst, int count) {
        byte[] bytes = dst.array();
        int base = dst.arrayOffset();
        int[] lanes = LANES.get();
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcAt + b * BLOCK;
            int out = b * Q8_KFormat.BYTES;
            FloatVector largest = FC.cast(FloatVector.zero(F));
            for (int j = 0; j < BLOCK; j += F.length()) {
                largest = FC.cast(largest.max(FC.cast(FloatVector.fromArray(F, src, x + j)).abs()));
            }
            float amax = largest.reduceLanes(VectorOperators.MAX);
            if (!(amax < Float.POSITIVE_INFINITY) || amax == 0.0f) {
                block(src, x, dst, out);
                continue;
            }
            int first = 0;
            while (Math.abs(src[x + first]) != amax) {
                first++;
            }
            float iscale = -127.f / src[x + first];
            int qs = base + out + Q8_KFormat.QS;
            for (int j = 0; j < BLOCK; j += 2 * F.length()) {
                IntVector q0 = quants(src, x + j, iscale);
                IntVector q1 = quants(src, x + j + F.length(), iscale);
                BC.cast(q0.convertShape(VectorOperators.I2B, B64, 0)).intoArray(bytes, qs + j);
                BC.cast(q1.convertShape(VectorOperators.I2B, B64, 0)).intoArray(bytes, qs + j + F.length());
                // the lanes are the stored bytes' values (within ±127; where -127 / max overflows, 0 and -2^22, whose
                // bytes are 0 and whose sums are 0 as shorts), so their sum is the bytes' sum
                IC.cast(q0.add(q1)).intoArray(lanes, 0);
                int sum = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
                dst.putShort(out + Q8_KFormat.BSUMS + 2 * (j / 16), (short) sum);
            }
            dst.putFloat(out, 1 / iscale);
        }
    }

    /** min(127, nearest int (ties to even) of iscale · x) for eight values, as the format's loop computes each. */
    private static IntVector quants(float[] src, int at, float iscale) {
        FloatVector x = FC.cast(FloatVector.fromArray(F, src, at));
        IntVector bits = IC.cast(FC.cast(FC.cast(x.mul(iscale)).add(12582912.0f)).reinterpretAsInts());
        return IC.cast(IC.cast(IC.cast(bits.and(0x007fffff)).sub(0x00400000)).min(127));
    }
}
