package org.popsolutions.spanker.runtime;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.card.ForwardingCard;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.ProgramCompletion;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * A recording device: every call the host makes to a card goes through here on its way to the mock card, and is
 * counted — host-link bytes each way and every op of every program run. What the host learns from the cards can
 * only come through {@link #read}s; what it gives them only through {@link #write}s and programs.
 */
final class RecordingCards implements CardProvider {
    private final CardProvider cards;
    final List<Recorder> recorders = new ArrayList<>();

    RecordingCards(CardProvider cards) {
        this.cards = cards;
    }

    @Override
    public String name() {
        return "recording";
    }

    @Override
    public CardGroup open(CardGroupSpec spec) {
        CardGroup inner = cards.open(spec);
        List<SailCard> wrapped = new ArrayList<>();
        for (SailCard card : inner.cards()) {
            Recorder r = new Recorder(card);
            recorders.add(r);
            wrapped.add(r);
        }
        return new CardGroup() {
            @Override
            public Topology topology() {
                return inner.topology();
            }

            @Override
            public List<SailCard> cards() {
                return wrapped;
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    long hostWriteBytes() {
        return recorders.stream().mapToLong(r -> r.writeBytes).sum();
    }

    long hostReadBytes() {
        return recorders.stream().mapToLong(r -> r.readBytes).sum();
    }

    long hostWrites() {
        return recorders.stream().mapToLong(r -> r.writes).sum();
    }

    /** Bytes of every op of a kind run on all cards, e.g. the link sends. */
    long sendBytes() {
        return recorders.stream().mapToLong(r -> r.sendBytes).sum();
    }

    long sends() {
        return recorders.stream().mapToLong(r -> r.sends).sum();
    }

    long ops(Class<? extends Op> kind) {
        return recorders.stream().mapToLong(r -> r.opsRun.stream().filter(kind::isInstance).count()).sum();
    }

    void reset() {
        for (Recorder r : recorders) {
            synchronized (r) {
                r.writeBytes = 0;
                r.writes = 0;
                r.readBytes = 0;
                r.sendBytes = 0;
                r.sends = 0;
                r.opsRun.clear();
            }
        }
    }

    static final class Recorder implements ForwardingCard {
        private final SailCard card;
        long writeBytes;
        long writes;
        long readBytes;
        long sendBytes;
        long sends;
        final List<Op> opsRun = new ArrayList<>();

        Recorder(SailCard card) {
            this.card = card;
        }

        @Override
        public SailCard delegate() {
            return card;
        }

        @Override
        public synchronized void write(CardBuffer buffer, long offset, ByteBuffer source) {
            writeBytes += source.remaining();
            writes++;
            card.write(buffer, offset, source);
        }

        @Override
        public synchronized void read(CardBuffer buffer, long offset, ByteBuffer target) {
            readBytes += target.remaining();
            card.read(buffer, offset, target);
        }

        @Override
        public synchronized CompletableFuture<ProgramCompletion> submit(Program program) {
            opsRun.addAll(program.ops());
            for (Op op : program.ops()) {
                if (op instanceof Op.Send s) {
                    sends++;
                    sendBytes += s.values().bytes();
                }
            }
            return card.submit(program);
        }
    }
}
