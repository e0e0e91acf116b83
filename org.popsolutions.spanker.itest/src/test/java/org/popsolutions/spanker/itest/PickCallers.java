package org.popsolutions.spanker.itest;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.popsolutions.spanker.api.console.ConsoleCommand;

/**
 * Threads that call one pick command in a loop until stopped and tally the answers: how many each strategy
 * gave, which calls threw, and which answers were not one of the expected strategies with its expected choice.
 */
final class PickCallers {
    /** Kept for the failure message; counting goes on past it. */
    private static final int KEPT = 5;

    private final ConsoleCommand pick;
    private final List<String> arguments;
    private final Map<String, String> choiceByStrategy;
    private final ExecutorService threads;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
    private final AtomicLong failureCount = new AtomicLong();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicLong unexpectedCount = new AtomicLong();
    private final Queue<String> unexpected = new ConcurrentLinkedQueue<>();

    private PickCallers(ConsoleCommand pick, List<String> arguments, Map<String, String> choiceByStrategy, int count) {
        this.pick = pick;
        this.arguments = List.copyOf(arguments);
        this.choiceByStrategy = Map.copyOf(choiceByStrategy);
        choiceByStrategy.keySet().forEach(name -> answers.put(name, new AtomicLong()));
        this.threads = Executors.newFixedThreadPool(count, r -> {
            Thread thread = new Thread(r, "pick-caller");
            thread.setDaemon(true);
            return thread;
        });
        for (int i = 0; i < count; i++) {
            threads.execute(this::callUntilStopped);
        }
    }

    /**
     * @param choiceByStrategy every strategy allowed to answer, with the choice it must make for {@code arguments}
     */
    static PickCallers start(ConsoleCommand pick, List<String> arguments, Map<String, String> choiceByStrategy,
            int count) {
        return new PickCallers(pick, arguments, choiceByStrategy, count);
    }

    private void callUntilStopped() {
        while (running.get()) {
            String answer = null;
            try {
                answer = pick.execute(arguments).json();
                JsonObject decision = JsonParser.parseString(answer).getAsJsonObject();
                String decidedBy = decision.get("decidedBy").getAsString();
                String choice = decision.get("strategy").getAsString();
                if (choice.equals(choiceByStrategy.get(decidedBy))) {
                    answers.get(decidedBy).incrementAndGet();
                } else {
                    keep(unexpectedCount, unexpected, decision.toString());
                }
            } catch (Throwable e) {
                keep(failureCount, failures, e + (answer == null ? "" : " on " + answer));
            }
        }
    }

    private static void keep(AtomicLong count, Queue<String> kept, String what) {
        if (count.incrementAndGet() <= KEPT) {
            kept.add(what);
        }
    }

    long answeredBy(String strategy) {
        return answers.get(strategy).get();
    }

    long failureCount() {
        return failureCount.get();
    }

    List<String> failures() {
        return new ArrayList<>(failures);
    }

    long unexpectedCount() {
        return unexpectedCount.get();
    }

    List<String> unexpected() {
        return new ArrayList<>(unexpected);
    }

    String summary() {
        return "answers by strategy " + answers + ", failures " + failureCount + ", unexpected " + unexpectedCount;
    }

    /** Stops the loops and waits at most {@code millis} for the threads to finish their current call. */
    void stop(long millis) throws InterruptedException {
        running.set(false);
        threads.shutdown();
        if (!threads.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
            threads.shutdownNow();
            throw new AssertionError("pick callers still running " + millis + " ms after being stopped");
        }
    }
}
