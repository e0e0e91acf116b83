package org.popsolutions.spanker.runtime;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.CardMemory;
import org.popsolutions.spanker.api.card.CardTelemetry;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.ProgramCompletion;
import org.popsolutions.spanker.api.card.SailCard;

/**
 * A card that hands every call to another card: the base of a view that changes one thing about it (a tensor-parallel
 * group's numbering, a test's recording) and leaves the rest as it is.
 */
abstract class ForwardingCard implements SailCard {
    protected final SailCard card;

    ForwardingCard(SailCard card) {
        this.card = card;
    }

    @Override
    public CardIdentity identity() {
        return card.identity();
    }

    @Override
    public CardBuffer allocate(long bytes, String purpose) {
        return card.allocate(bytes, purpose);
    }

    @Override
    public void free(CardBuffer buffer) {
        card.free(buffer);
    }

    @Override
    public CardMemory memory() {
        return card.memory();
    }

    @Override
    public void write(CardBuffer buffer, long offset, ByteBuffer source) {
        card.write(buffer, offset, source);
    }

    @Override
    public void read(CardBuffer buffer, long offset, ByteBuffer target) {
        card.read(buffer, offset, target);
    }

    @Override
    public CompletableFuture<ProgramCompletion> submit(Program program) {
        return card.submit(program);
    }

    @Override
    public List<PortStatus> ports() {
        return card.ports();
    }

    @Override
    public void enablePort(int port, boolean enabled) {
        card.enablePort(port, enabled);
    }

    @Override
    public CardTelemetry telemetry() {
        return card.telemetry();
    }
}
