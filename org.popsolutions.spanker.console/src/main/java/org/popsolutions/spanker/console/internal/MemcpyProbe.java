package org.popsolutions.spanker.console.internal;

/** The host's copy bandwidth, the yardstick for in-process collective bandwidth. */
final class MemcpyProbe {
    private MemcpyProbe() {
    }

    /** Bytes copied per second by System.arraycopy of a {@code bytes}-sized float array, best of five. */
    static double gigabytesPerSecond(long bytes) {
        int elements = (int) Math.max(1, Math.min(bytes, 1L << 30) / Float.BYTES);
        float[] source = new float[elements];
        float[] target = new float[elements];
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 6; i++) {
            long start = System.nanoTime();
            System.arraycopy(source, 0, target, 0, elements);
            long elapsed = System.nanoTime() - start;
            if (i > 0) {
                best = Math.min(best, elapsed);
            }
        }
        return (double) elements * Float.BYTES / Math.max(1, best);
    }
}
