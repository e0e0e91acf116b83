package org.popsolutions.spanker.device.mock.card;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.PreparedJob;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.ProgramCompletion;
import org.popsolutions.spanker.api.card.SailCard;

/**
 * A group's job prepared once and run per token: one activation per card, re-armed for every run, whose end counts
 * down a counter the running thread parks on. Each card's program is compiled when the job is prepared (a prompt
 * pass's, prepared while a model loads, would otherwise be compiled inside the first prompt). A run allocates
 * nothing. When a card fails, the run ends at once; the other cards' programs may still wait for its messages, and
 * the next run starts only when they have ended (failed by their receive timeout), so none of them takes a message
 * of the next run.
 */
final class MockPreparedJob implements PreparedJob {
    private final Object order;
    private final MockCard[] cards;
    private final Run[] runs;
    private final int count;
    /** The group's workers, which run every card of the job. */
    private final CardWorkers workers;
    private final AtomicInteger remaining = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Thread waiter;

    /** @param order the lock under which every group over these cards queues its jobs, so all run in one order */
    MockPreparedJob(Object order, List<SailCard> cards, List<Program> programs) {
        if (programs.size() != cards.size()) {
            throw new IllegalArgumentException(programs.size() + " programs for " + cards.size() + " cards");
        }
        this.order = order;
        this.cards = new MockCard[cards.size()];
        this.runs = new Run[cards.size()];
        int n = 0;
        for (int c = 0; c < runs.length; c++) {
            Program program = programs.get(c);
            if (program != null) {
                this.cards[c] = (MockCard) cards.get(c);
                runs[c] = new Run(program);
                runs[c].compiled = this.cards[c].compileAhead(program);
                runs[c].compiledAhead = runs[c].compiled != null;
                n++;
            }
        }
        this.count = n;
        Program[] byCard = new Program[runs.length];
        for (int c = 0; c < runs.length; c++) {
            byCard[c] = runs[c] == null ? null : runs[c].program;
        }
        long[][] ranks = CriticalPath.ranks(this.cards, byCard);
        for (int c = 0; c < runs.length && ranks != null; c++) {
            if (runs[c] != null) {
                runs[c].ranks = ranks[c];
            }
        }
        this.workers = cards.isEmpty() ? null : ((MockCard) cards.get(0)).workers();
    }

    /** Card {@code card}'s program as compiled when the job was prepared; null when it was not (or has no program). */
    MockProgram compiledAhead(int card) {
        return runs[card] == null || !runs[card].compiledAhead ? null : runs[card].compiled;
    }

    @Override
    public void run() {
        waiter = Thread.currentThread();
        while (!allEnded()) {
            LockSupport.park(this);
        }
        failure.set(null);
        remaining.set(count);
        synchronized (order) {
            for (Run run : runs) {
                if (run != null) {
                    run.arm();
                }
            }
            if (count > 0) {
                MockCard.startAll(cards, runs, workers);
            }
        }
        while (remaining.get() > 0 && failure.get() == null) {
            LockSupport.park(this);
        }
        waiter = null;
        Throwable failed = failure.get();
        if (failed instanceof RuntimeException e) {
            throw e;
        }
        if (failed != null) {
            throw new DeviceException("a card failed: " + failed, failed);
        }
    }

    /** Made when asked (a run itself allocates nothing); the mock does not time its programs on a clock of its own. */
    @Override
    public ProgramCompletion completion(int card) {
        Run run = card >= 0 && card < runs.length ? runs[card] : null;
        if (run == null || !run.completed) {
            return null;
        }
        return new ProgramCompletion(run.card, run.ops, run.busyNanos);
    }

    private boolean allEnded() {
        for (Run run : runs) {
            if (run != null && !run.ended()) {
                return false;
            }
        }
        return true;
    }

    /** One card's program in this job. */
    private final class Run extends MockCard.Activation {
        private static final int IDLE = 0;
        private static final int ARMED = 1;
        private static final int ENDED = 2;
        private final AtomicInteger state = new AtomicInteger(IDLE);
        /** The last run's end, when it completed (written before the count down the waiter reads). */
        private boolean completed;
        private int card;
        private int ops;
        private long busyNanos;

        Run(Program program) {
            super(program);
        }

        void arm() {
            completed = false;
            rearm();
            state.set(ARMED);
        }

        @Override
        void complete(int card, int ops, long busyNanos) {
            if (!state.compareAndSet(ARMED, ENDED)) {
                return;
            }
            this.card = card;
            this.ops = ops;
            this.busyNanos = busyNanos;
            completed = true;
            if (remaining.decrementAndGet() == 0 || failure.get() != null) {
                LockSupport.unpark(waiter); // the run's last card, or a failed run's straggler the next run waits for
            }
        }

        @Override
        void fail(Throwable cause) {
            if (state.compareAndSet(ARMED, ENDED)) {
                failure.compareAndSet(null, cause); // the first failure is the run's
                LockSupport.unpark(waiter);
            }
        }

        @Override
        boolean ended() {
            return state.get() != ARMED;
        }
    }
}
