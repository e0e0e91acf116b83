package org.popsolutions.spanker.ggml.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * Attention's lanes and SwiGLU allocate nothing in a JVM where other vector shapes ran first, as in a long-lived Karaf
 * or {@code serve} JVM (the 512-bit kernels, 128-bit loops elsewhere): the Vector API's own call sites are shared by
 * every caller, so their profiles then name several vector classes. On Java 17, before the lanes cast their vectors
 * to the species' class, C2 compiled swiGlu after such a start with its stores as calls and boxed every vector
 * (4,096 bytes per call of 512 elements; scores and addWeighted ~60 KB per call of 64 positions).
 */
class LanesAllocationTest {
    @Test
    void lanesAllocateNothingAfterOtherShapesRan() {
        assumeTrue(AttentionLanes.BEST instanceof VectorAttentionLanes, "no vector lanes in this JVM");
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM does not count allocations per thread");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] a = new float[1024];
        float[] b = new float[1024];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 13 - 6) * 0.25f;
        }
        // the calls the lanes make, on three other shapes and the lanes' own, so each shared call site's profile
        // holds several classes before the lanes are compiled
        float sink = 0;
        for (int round = 0; round < 5_000; round++) {
            sink += otherShapes(FloatVector.SPECIES_128, a, b);
            sink += otherShapes(FloatVector.SPECIES_512, a, b);
            sink += otherShapes(FloatVector.SPECIES_64, a, b);
            sink += otherShapes(FloatVector.SPECIES_256, a, b);
        }
        int n = 512;
        float[] gate = new float[n];
        float[] up = new float[n];
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            gate[i] = (i % 17 - 8) * 0.3f;
            up[i] = (i % 5) * 0.2f;
        }
        int positions = 64;
        int d = 64;
        float[] keys = new float[d * positions];
        float[] scores = new float[positions];
        AttentionLanes lanes = AttentionLanes.BEST;
        // the least of up to thirty rounds: the rounds before C2 has compiled the lanes run in the interpreter
        long least = Long.MAX_VALUE;
        for (int round = 0; round < 30 && least > 0; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int call = 0; call < 2_000; call++) {
                lanes.swiGlu(gate, 0, up, 0, out, 0, n);
                lanes.scores(gate, 0, keys, 0, positions, positions, d, 0.125f, scores, 0);
                float max = lanes.max(scores, 0, positions);
                lanes.expMinus(scores, 0, positions, max);
                sink += max;
                lanes.addWeighted(scores, 0, positions, keys, 0, d, out, 0);
            }
            least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
        }
        assertEquals(0, least / 2_000, "bytes per call of swiGlu, scores, softmax's max and e^x, addWeighted (sink " + sink + ")");
    }

    private static float otherShapes(VectorSpecies<Float> species, float[] a, float[] b) {
        float sum = 0;
        for (int i = 0; i + species.length() <= a.length; i += species.length()) {
            FloatVector x = FloatVector.fromArray(species, a, i);
            VectorMask<Float> high = x.compare(VectorOperators.GT, 2f);
            FloatVector y = x.neg().max(-1f).mul(x).add(FloatVector.fromArray(species, b, i)).sub(0.5f);
            IntVector bits = ((IntVector) y.reinterpretAsInts()).sub(3).lanewise(VectorOperators.LSHL, 1);
            y = y.mul(bits.reinterpretAsFloats()).blend(1f, high).add(FloatVector.zero(species))
                    .add(FloatVector.broadcast(species, 0.25f).mul(x));
            y.div(y.add(1f)).intoArray(b, i);
            sum += y.reduceLanes(VectorOperators.ADD);
        }
        return sum;
    }
}
