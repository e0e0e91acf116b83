package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuMatmulInt4ConfigTest {
    @Test
    void threadCountsThatDoNotParseOrCannotBeMeantAreRefusedAndThePoolStays() {
        CpuMatmulInt4 matmul = new CpuMatmulInt4(Kernels.scalar(), 1);
        try {
            matmul.configure(Map.of("threads", "2"));
            assertEquals(2, matmul.threads());
            for (Object bad : new Object[] {5000, -1, "many", 1.5}) {
                matmul.configure(Map.of("threads", bad));
                assertEquals(2, matmul.threads(), "threads = " + bad + " was refused");
            }
            matmul.configure(Map.of("threads", 3L));
            assertEquals(3, matmul.threads());
        } finally {
            matmul.deactivate();
        }
    }
}
