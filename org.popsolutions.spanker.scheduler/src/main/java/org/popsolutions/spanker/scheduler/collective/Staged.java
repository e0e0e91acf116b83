package org.popsolutions.spanker.scheduler.collective;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.PortTraffic;
import org.popsolutions.spanker.api.card.PreparedJob;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.ProgramCompletion;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.LinkTraffic;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * A card group kept open for host-array collectives, with the buffers and programs of the schedules it has run (a
 * benchmark or a decode runs the same few shapes again and again).
 */
final class Staged implements AutoCloseable {
    private static final int PREPARED = 16;

    private final CardGroup group;
    private final List<CardIdentity> ids;
    private final Map<RunKey, Run> runs = new LinkedHashMap<>(16, 0.75f, true);
    private boolean open = true;
    /** The run prepared last: asked for again, it is found without hashing its schedule. */
    private Run last;

    Staged(CardGroup group) {
        this.group = group;
        this.ids = group.cards().stream().map(SailCard::identity).toList();
    }

    private record RunKey(Schedule schedule, ReduceOp op) {
    }

    Run prepare(Schedule schedule, ReduceOp op, boolean reduces, boolean tagged) {
        if (last != null && last.schedule == schedule && last.op == op) {
            return last;
        }
        last = prepared(schedule, op, reduces, tagged);
        return last;
    }

    private Run prepared(Schedule schedule, ReduceOp op, boolean reduces, boolean tagged) {
        RunKey key = new RunKey(schedule, op);
        Run run = runs.get(key);
        if (run == null) {
            if (runs.size() >= PREPARED) {
                RunKey eldest = runs.keySet().iterator().next();
                Run evicted = runs.remove(eldest);
                evicted.free();
                if (evicted == last) {
                    last = null;
                }
            }
            run = new Run(schedule, op, reduces, tagged);
            runs.put(key, run);
        }
        return run;
    }

    @Override
    public void close() {
        open = false;
        group.close();
    }

    /** False once closed (evicted, or its cards failed half way). */
    boolean isOpen() {
        return open;
    }

    /** One schedule's buffers and programs on the group's cards. */
    final class Run {
        private final Schedule schedule;
        private final ReduceOp op;
        /** The link model's prediction for this run, and the rates it was made with (the model may change). */
        private CollectiveEstimate predicted;
        private final double[] predictedFor = new double[4];
        private final List<CardBuffer> work = new ArrayList<>();
        private final List<CardBuffer> allocated = new ArrayList<>();
        private final List<Program> programs = new ArrayList<>();
        /** The programs prepared as one job: run again and again without new completions. */
        private final PreparedJob job;
        private final long[][] sentBefore;
        private final long[][] messagesBefore;
        private List<LinkTraffic> traffic = List.of();
        private long deviceNanos = -1;
        private double timeDilation = 1;

        Run(Schedule schedule, ReduceOp op, boolean reduces, boolean tagged) {
            this.schedule = schedule;
            this.op = op;
            int p = schedule.cards();
            long workBytes = (long) schedule.workLength() * Float.BYTES;
            try {
                List<Slice> workSlices = new ArrayList<>();
                List<Slice> tagSlices = tagged ? new ArrayList<>() : null;
                for (int c = 0; c < p; c++) {
                    SailCard card = group.cards().get(c);
                    CardBuffer w = card.allocate(workBytes, schedule.kind().label() + " working buffer");
                    work.add(w);
                    allocated.add(w);
                    workSlices.add(Slice.of(w));
                    if (tagged) {
                        CardBuffer t = card.allocate(schedule.workLength(), schedule.kind().label() + " origin tags");
                        allocated.add(t);
                        tagSlices.add(Slice.of(t));
                    }
                }
                List<CardPrograms.Staging> staging = ScheduledCollectives.staging(group, schedule, tagged, allocated);
                List<List<Op>> ops = new ArrayList<>();
                for (int c = 0; c < p; c++) {
                    ops.add(new ArrayList<>());
                }
                CardPrograms.append(schedule, group.topology().kind(), ids, op, workSlices, tagSlices, staging, ops);
                if (reduces && op == ReduceOp.AVG) {
                    int n = schedule.elements();
                    for (int c = 0; c < p; c++) {
                        Slice result = schedule.kind() == CollectiveKind.ALL_REDUCE ? workSlices.get(c)
                                : workSlices.get(c).sub(chunkStart(c, n, p) * (long) Float.BYTES,
                                        (chunkStart(c + 1, n, p) - chunkStart(c, n, p)) * (long) Float.BYTES);
                        ops.get(c).add(new Op.Divide(result, p));
                    }
                }
                for (int c = 0; c < p; c++) {
                    programs.add(new Program(schedule.algorithm().label() + " " + schedule.kind().label() + " card "
                            + c, ops.get(c)));
                }
                this.job = group.prepare(programs);
            } catch (RuntimeException e) {
                ScheduledCollectives.freeAll(group, allocated);
                throw e;
            }
            this.sentBefore = new long[p][];
            this.messagesBefore = new long[p][];
        }

        /** The α-β-γ time of this run's schedule ({@link ScheduleCost}), worked out again only when a rate changed. */
        CollectiveEstimate predicted(TopologyKind cabling, double alpha, double beta, double gamma,
                int bytesPerElement) {
            if (predicted == null || predictedFor[0] != alpha || predictedFor[1] != beta || predictedFor[2] != gamma
                    || predictedFor[3] != bytesPerElement) {
                predicted = ScheduleCost.evaluate(schedule, cabling, alpha, beta, gamma, bytesPerElement);
                predictedFor[0] = alpha;
                predictedFor[1] = beta;
                predictedFor[2] = gamma;
                predictedFor[3] = bytesPerElement;
            }
            return predicted;
        }

        private static int chunkStart(int c, int n, int p) {
            return (int) ((long) c * n / p);
        }

        /** Stages the inputs, runs every card's program, and returns the nanoseconds the programs took. */
        long execute(CollectiveRequest request) {
            int p = schedule.cards();
            int n = schedule.elements();
            for (int c = 0; c < p; c++) {
                float[] input = request.buffers().get(c);
                long offset = schedule.kind() == CollectiveKind.ALL_GATHER ? (long) c * n * Float.BYTES : 0;
                // floats as floats: no host-side byte staging (a card that keeps floats takes them in one copy)
                group.cards().get(c).writeFloats(work.get(c), offset, input, 0, n);
            }
            for (int c = 0; c < p; c++) {
                List<PortTraffic> ports = group.cards().get(c).telemetry().ports();
                if (sentBefore[c] == null || sentBefore[c].length != ports.size()) {
                    sentBefore[c] = new long[ports.size()];
                    messagesBefore[c] = new long[ports.size()];
                }
                for (int i = 0; i < ports.size(); i++) {
                    sentBefore[c][i] = ports.get(i).sentBytes();
                    messagesBefore[c][i] = ports.get(i).sentMessages();
                }
            }
            long start = System.nanoTime();
            try {
                // one job, prepared once: groups sharing the cards run their jobs in one order on every card
                job.run();
            } catch (SpankerException e) {
                throw new DeviceException("the " + schedule.algorithm().label() + " " + schedule.kind().label()
                        + " failed: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new DeviceException("the " + schedule.kind().label() + " failed: " + e, e);
            }
            long elapsed = System.nanoTime() - start;
            traffic = countTraffic();
            deviceTime();
            return elapsed;
        }

        /**
         * The collective's time on the cards, as nccl-tests times on the device: the last card's finish less the
         * first card's start (the cards' clocks already aligned to the host's), when every card reports them.
         */
        private void deviceTime() {
            long first = Long.MAX_VALUE;
            long last = Long.MIN_VALUE;
            double dilation = 1;
            boolean timed = true;
            int ran = 0;
            for (int c = 0; c < programs.size(); c++) {
                ProgramCompletion done = job.completion(c);
                if (done == null) {
                    timed = false;
                    continue;
                }
                ran++;
                dilation = Math.max(dilation, done.timeDilation());
                timed &= done.deviceTimed();
                if (done.deviceTimed()) {
                    first = Math.min(first, done.deviceStartNanos());
                    last = Math.max(last, done.deviceFinishNanos());
                }
            }
            deviceNanos = timed && ran > 0 ? Math.max(0, last - first) : -1;
            timeDilation = dilation;
        }

        /** The last run's time on the cards' clocks, or −1 when a card did not report it. */
        long deviceNanos() {
            return deviceNanos;
        }

        /** How many times slower than the hardware the cards of the last run ran. */
        double timeDilation() {
            return timeDilation;
        }

        private List<LinkTraffic> countTraffic() {
            List<LinkTraffic> list = new ArrayList<>();
            for (int c = 0; c < schedule.cards(); c++) {
                List<PortTraffic> ports = group.cards().get(c).telemetry().ports();
                for (int i = 0; i < ports.size(); i++) {
                    long bytes = ports.get(i).sentBytes() - sentBefore[c][i];
                    long messages = ports.get(i).sentMessages() - messagesBefore[c][i];
                    if (messages > 0) {
                        list.add(new LinkTraffic(c, ids.get(c).ports().get(i).neighbourCard(), bytes, messages));
                    }
                }
            }
            list.sort(Comparator.comparingInt(LinkTraffic::local).thenComparingInt(LinkTraffic::remote));
            return list;
        }

        List<LinkTraffic> traffic() {
            return traffic;
        }

        /** Reads each card's result back over the host link. */
        List<float[]> results(CollectiveRequest request) {
            int p = schedule.cards();
            int n = schedule.elements();
            List<float[]> results = new ArrayList<>(p);
            for (int c = 0; c < p; c++) {
                float[] result;
                long offset = 0;
                switch (schedule.kind()) {
                    case ALL_REDUCE, BROADCAST -> result = request.buffers().get(c);
                    case ALL_GATHER -> result = new float[schedule.workLength()];
                    default -> {
                        int from = chunkStart(c, n, p);
                        result = new float[chunkStart(c + 1, n, p) - from];
                        offset = (long) from * Float.BYTES;
                    }
                }
                group.cards().get(c).readFloats(work.get(c), offset, result, 0, result.length);
                results.add(result);
            }
            return results;
        }

        void free() {
            job.close();
            ScheduledCollectives.freeAll(group, allocated);
        }
    }
}
