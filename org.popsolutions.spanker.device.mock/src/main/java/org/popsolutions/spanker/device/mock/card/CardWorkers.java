package org.popsolutions.spanker.device.mock.card;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The threads that run one group's card programs. A card's program is not tied to a thread: it runs until it
 * must wait for a message, then gives its thread back and is queued again when the message is put on its link.
 * So the thread that sends can go on to run the receiver's program (a collective's small steps run on one or two
 * threads instead of being handed from card thread to card thread at every step), while cards with work of their
 * own still run in parallel, up to one thread per card.
 *
 * <p>A light program (link ops and folds over a few kilobytes: a small collective) submitted while the group is
 * quiet runs on the submitting thread itself, and so do the cards it wakes, until each waits or is done: a
 * collective over small buffers completes inside its submissions without waking any thread, as the host would
 * have run it. Its completion is still reported through the future.
 *
 * <p>Each card is in one of four states, changed only under this object's lock: idle (nothing submitted), queued
 * (waiting for a thread), running (on one thread; a card never runs on two) or waiting (for a message, with a
 * deadline).
 *
 * <p>A free thread takes the queued card whose next op starts the heaviest chain left in its job ({@link CriticalPath},
 * worked out once per prepared job), first come among equals. With fewer threads than cards, a card on the critical
 * path that got its thread last would run its chain alone while the other threads idle.
 */
final class CardWorkers {
    enum State { IDLE, QUEUED, RUNNING, WAITING }

    private final String name;
    /** Threads to run cards at once; guarded by the lock. */
    private int maxThreads;
    /** Guards the cards' states, the queues and the counts; idle workers wait on it. */
    private final Object lock = new Object();
    /** Cards waiting for a thread; the one whose next op starts the heaviest chain of its job goes first. */
    private final ArrayList<MockCard> runnable = new ArrayList<>();
    /** How many times a card was queued, for first-come order among equals. */
    private long queued;
    /** Told each card index as it is given a thread (under the lock): tests watch the order. */
    volatile IntConsumer picked;
    private final List<MockCard> waiting = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private int idle;
    /** Cards being run by workers now. */
    private int busy;
    /** A submitting thread is running cards itself; cards made runnable meanwhile are left to it. */
    private boolean inlineRunning;
    /** The earliest deadline an idle worker is timed to wake for (a waiting card's receive timeout). */
    private long watchedDeadline = Long.MAX_VALUE;
    /**
     * How far ahead an idle worker with no waiting card to watch is timed to wake anyway: the cards' receive timeout.
     * A card that parks later has a later deadline, so it need not wake the worker to be watched (a small collective
     * run on the submitting thread parks cards at every step: waking a worker each time costs a thread hand-over).
     */
    private final long watchAheadNanos;
    private boolean closed;

    CardWorkers(String name, int maxThreads, long watchAheadNanos) {
        this.name = name;
        this.maxThreads = Math.max(1, maxThreads);
        this.watchAheadNanos = Math.max(1, watchAheadNanos);
    }

    /**
     * How many cards run at once from now on: unshaped, more threads than cores only add hand-overs (a card that
     * waits gives its thread to another); shaped, every card needs a thread of its own to be held to its deadlines.
     */
    void parallelism(int threads) {
        synchronized (lock) {
            maxThreads = Math.max(1, threads);
            lock.notifyAll();
        }
    }

    /**
     * Queues a program on the card, which runs when a thread is free, or at once on this thread when it is light
     * and the group is quiet; false once the group is closed.
     */
    boolean submit(MockCard card, MockCard.Activation program, boolean light) {
        boolean inline = false;
        synchronized (lock) {
            if (closed) {
                return false;
            }
            card.pending.add(program);
            if (card.state == State.IDLE) {
                if (light && !inlineRunning && busy == 0 && runnable.isEmpty()) {
                    inline = inlineRunning = true;
                }
                makeRunnable(card);
            }
        }
        if (inline) {
            runInline();
        }
        return true;
    }

    /**
     * Queues one program on each of {@code cards} at once (a job: {@code programs[c]} on {@code cards[c]}, null for
     * none), then runs them as {@link #submit} does; all run on this thread when every one is light and the group is
     * quiet. Queued together, each card runs until it waits with the others' messages already sent where they could
     * be, instead of the first card waiting for cards not yet submitted. False once the group is closed.
     */
    boolean submitAll(MockCard[] cards, MockCard.Activation[] programs, boolean light) {
        boolean inline = false;
        synchronized (lock) {
            if (closed) {
                return false;
            }
            if (light && !inlineRunning && busy == 0 && runnable.isEmpty()) {
                inline = inlineRunning = true;
            }
            for (int c = 0; c < cards.length; c++) {
                if (programs[c] == null) {
                    continue;
                }
                cards[c].pending.add(programs[c]);
                if (cards[c].state == State.IDLE) {
                    makeRunnable(cards[c]);
                }
            }
        }
        if (inline) {
            runInline();
        }
        return true;
    }

    /** Runs the runnable cards on this (submitting) thread until each waits or is done. */
    private void runInline() {
        boolean done = false;
        try {
            while (true) {
                MockCard card;
                synchronized (lock) {
                    card = closed ? null : pollRunnable();
                    if (card == null) {
                        inlineRunning = false;
                        done = true;
                        return;
                    }
                    card.state = State.RUNNING;
                    card.wakeRequested = false;
                }
                card.runUntilWaiting();
            }
        } finally {
            if (!done) {
                synchronized (lock) {
                    inlineRunning = false;
                    handOver();
                }
            }
        }
    }

    /** The programs queued on the card and not started, taken off it (the card is closing). */
    List<MockCard.Activation> drain(MockCard card) {
        synchronized (lock) {
            List<MockCard.Activation> left = new ArrayList<>(card.pending);
            card.pending.clear();
            return left;
        }
    }

    /** A message arrived (or a link changed) for the card; a waiting card runs again, a running one retries. */
    void wake(MockCard card) {
        synchronized (lock) {
            if (card.state == State.WAITING) {
                waiting.remove(card);
                makeRunnable(card);
            } else if (card.state == State.RUNNING) {
                card.wakeRequested = true;
            }
        }
    }

    /**
     * The running card must wait for a message until {@code deadline}: false when a wake came in the meantime
     * (the card retries at once on its thread), true when it gave up its thread.
     */
    boolean park(MockCard card, long deadline) {
        synchronized (lock) {
            if (card.wakeRequested || closed) {
                card.wakeRequested = false;
                return false;
            }
            card.state = State.WAITING;
            card.deadline = deadline;
            waiting.add(card);
            if (watchedDeadline == Long.MAX_VALUE || deadline - watchedDeadline < 0) {
                // no idle worker is timed to notice this deadline: have one be (receive timeouts need a clock)
                if (idle > 0) {
                    lock.notify();
                } else {
                    startThread();
                }
            }
            return true;
        }
    }

    /** The running card's next program, or null (the card is idle now). */
    MockCard.Activation next(MockCard card) {
        synchronized (lock) {
            MockCard.Activation next = card.pending.poll();
            if (next == null) {
                card.state = State.IDLE;
            }
            return next;
        }
    }

    private void makeRunnable(MockCard card) {
        queue(card);
        if (!inlineRunning) {
            handOver();
        }
    }

    private void queue(MockCard card) {
        card.state = State.QUEUED;
        card.queuedSeq = queued++;
        runnable.add(card);
    }

    /**
     * Under the lock: takes the runnable card whose next op starts the heaviest chain of its job (a prepared job's
     * {@link CriticalPath}), the first queued among equals (all equal, it is first come, first served). Run first,
     * the card on the critical path does not start its chain when the other cards are done and their workers idle.
     */
    private MockCard pollRunnable() {
        int best = -1;
        long bestPriority = 0;
        for (int i = 0; i < runnable.size(); i++) {
            MockCard card = runnable.get(i);
            long priority = card.priority();
            if (best < 0 || priority > bestPriority
                    || priority == bestPriority && card.queuedSeq - runnable.get(best).queuedSeq < 0) {
                best = i;
                bestPriority = priority;
            }
        }
        if (best < 0) {
            return null;
        }
        MockCard card = runnable.remove(best);
        IntConsumer watcher = picked;
        if (watcher != null) {
            watcher.accept(card.index());
        }
        return card;
    }

    /** Gets a worker to the runnable cards: an idle one, or a new one while there are fewer than cards. */
    private void handOver() {
        if (runnable.isEmpty()) {
            return;
        }
        if (idle > 0) {
            lock.notify();
        } else {
            startThread();
        }
    }

    private void startThread() {
        if (threads.size() < maxThreads && !closed) {
            Thread t = new Thread(this::work, name + "-" + threads.size());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void work() {
        while (true) {
            MockCard card;
            synchronized (lock) {
                card = nextRunnable();
                if (card == null) {
                    return;
                }
                busy++;
            }
            try {
                card.runUntilWaiting();
            } finally {
                synchronized (lock) {
                    busy--;
                }
            }
        }
    }

    /** Under the lock: the next card to run (waiting while there is none), or null once closed or not needed. */
    private MockCard nextRunnable() {
        while (!closed) {
            if (threads.size() > maxThreads) {
                // fewer threads wanted now: this one ends
                threads.remove(Thread.currentThread());
                return null;
            }
            MockCard card = pollRunnable();
            if (card != null) {
                card.state = State.RUNNING;
                card.wakeRequested = false;
                return card;
            }
            long now = System.nanoTime();
            long earliest = Long.MAX_VALUE;
            for (int i = waiting.size() - 1; i >= 0; i--) {
                MockCard w = waiting.get(i);
                if (w.deadline - now <= 0) {
                    // its receive fails on its next try, naming the link
                    waiting.remove(i);
                    queue(w);
                } else if (earliest == Long.MAX_VALUE || w.deadline - earliest < 0) {
                    earliest = w.deadline;
                }
            }
            if (!runnable.isEmpty()) {
                continue;
            }
            if (earliest == Long.MAX_VALUE && watchedDeadline == Long.MAX_VALUE) {
                // nothing waits now: watch a receive timeout ahead, so the cards parked from now on need no wake-up
                earliest = now + watchAheadNanos;
            }
            idle++;
            boolean watching = earliest != Long.MAX_VALUE
                    && (watchedDeadline == Long.MAX_VALUE || earliest - watchedDeadline < 0);
            if (watching) {
                watchedDeadline = earliest;
            }
            try {
                if (earliest == Long.MAX_VALUE) {
                    lock.wait();
                } else {
                    long wait = earliest - now;
                    lock.wait(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            } catch (InterruptedException e) {
                // close() interrupts; the loop condition decides
            } finally {
                idle--;
                if (watching && watchedDeadline == earliest) {
                    watchedDeadline = Long.MAX_VALUE;
                }
            }
        }
        return null;
    }

    /** Stops the threads (a program still running is interrupted); the cards fail what they still hold. */
    void close() {
        List<Thread> stopping;
        synchronized (lock) {
            closed = true;
            runnable.clear();
            waiting.clear();
            lock.notifyAll();
            stopping = List.copyOf(threads);
        }
        stopping.forEach(Thread::interrupt);
    }
}
