package org.popsolutions.spanker.api.card;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A card that hands every call to another card: the base of a view that changes one thing about it (a group's
 * numbering, the buffers a group frees when it closes, a test's recording) and leaves the rest as it is. An
 * interface, so the API stays free of implementation classes; its one abstract method names the card it forwards to,
 * and a new {@link SailCard} method gains its forwarding here, once, for every view.
 */
@ProviderType
public interface ForwardingCard extends SailCard {
    /** The card every call not overridden goes to. */
    SailCard delegate();

    @Override
    default CardIdentity identity() {
        return delegate().identity();
    }

    @Override
    default CardBuffer allocate(long bytes, String purpose) {
        return delegate().allocate(bytes, purpose);
    }

    @Override
    default void free(CardBuffer buffer) {
        delegate().free(buffer);
    }

    @Override
    default CardMemory memory() {
        return delegate().memory();
    }

    @Override
    default void write(CardBuffer buffer, long offset, ByteBuffer source) {
        delegate().write(buffer, offset, source);
    }

    @Override
    default void read(CardBuffer buffer, long offset, ByteBuffer target) {
        delegate().read(buffer, offset, target);
    }

    @Override
    default void writeFloats(CardBuffer buffer, long offset, float[] source, int from, int count) {
        delegate().writeFloats(buffer, offset, source, from, count);
    }

    @Override
    default void readFloats(CardBuffer buffer, long offset, float[] target, int from, int count) {
        delegate().readFloats(buffer, offset, target, from, count);
    }

    @Override
    default CompletableFuture<ProgramCompletion> submit(Program program) {
        return delegate().submit(program);
    }

    @Override
    default List<PortStatus> ports() {
        return delegate().ports();
    }

    @Override
    default void enablePort(int port, boolean enabled) {
        delegate().enablePort(port, enabled);
    }

    @Override
    default CardTelemetry telemetry() {
        return delegate().telemetry();
    }
}
