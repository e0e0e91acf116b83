package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import org.osgi.service.component.annotations.Component;

/** The portable (pure-Java) kernels as a service, ranking 0: what runs where no faster provider is present. */
@Component(service = Kernels.class, property = "service.ranking:Integer=0")
public final class PortableKernelsService implements Kernels {
    private final Kernels portable = Kernels.portable();

    @Override
    public String name() {
        return portable.name();
    }

    @Override
    public float dot(ByteBuffer weights, int weightsOffset, PreparedActivation activation) {
        return portable.dot(weights, weightsOffset, activation);
    }

    @Override
    public void dotRows(ByteBuffer weights, int weightsOffset, int rowBytes, int rows, PreparedActivation activation,
            float[] out, int outOffset) {
        portable.dotRows(weights, weightsOffset, rowBytes, rows, activation, out, outOffset);
    }

    @Override
    public void dotRowsBatch(ByteBuffer weights, int weightsOffset, int rowBytes, int rows, PreparedBatch batch,
            float[] out, int outOffset, int outStride) {
        portable.dotRowsBatch(weights, weightsOffset, rowBytes, rows, batch, out, outOffset, outStride);
    }
}
