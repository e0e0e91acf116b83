package org.popsolutions.spanker.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The time dilation K that {@code sails-timing.sh} starts a shaped decode fleet with (lib.sh's
 * {@code decode_dilation_for} runs it): large enough that the emulators' own real work for a token fits, with a
 * margin, inside the token's dilated time (K x the plan's predicted seconds per token). Below that the cards are
 * CPU-bound and the row measures this machine, not the model.
 *
 * <p>A token's real work is what runs one after another whatever the pacing: each card's arithmetic on its shard,
 * with the cards of one step sharing the machine's cores ({@code cards / cores} of them per core), plus the chain of
 * link hops, each two cross-process wake-ups. Session 10's rule took the larger of the two; on the tiny preset with 4
 * cards both were about 26 and the busiest card computed 5.1 ms per 3.8 ms modelled (measured 1.62x the prediction),
 * because they add up. Where an unshaped run of the same model on the same fleet size was measured in the same
 * sitting, its seconds per token (everything the emulators and the host do per token, cold processes as the shaped
 * fleet's are, at this sitting's load) takes the estimate's place: it measures the same work on this machine, where
 * the estimate's rate is one figure for every model (TinyLlama's native Q4_0 kernels run several times faster per
 * byte than it assumes, and its 8-card load would take 12 minutes at the estimate's K). The estimate's margin grows
 * with the load (others' work takes the cores too); the measurement already holds the load, so its margin is a
 * fixed 3 (1 + load on it counted the load twice: K = 626 for the tiny preset on 2 cards at load 14). 3, not 2: the
 * host's part of a token (sampling, reading the logits, about a sixth of an unshaped token) does not overlap the
 * cards' paced time and adds up to a sixth of a margin's worth to the measured token.
 *
 * <pre>
 *   estimate = share x (busiest card's weight bytes / a core's rate + hops x hop cost)
 *   share    = max(1, cards / cores)
 *   real     = 3 x unshaped s/token when measured, else max(2, 1 + load) x estimate
 *   K        = max(the arithmetic's K, ceil(real / predicted s/token))
 * </pre>
 *
 * hops: per layer of the plan, 2(p-1) per allreduce and p-1 per reduce-scatter or allgather on p cards (the messages
 * the busiest link of a p-card ring carries one after another, whatever the algorithm).
 */
public final class DecodeDilation {
    private DecodeDilation() {
    }

    /** What the rule reads from {@code plan --json}. */
    record Plan(double secondsPerToken, int hops, long busiestCardWeightBytes) {
        private static final Pattern SECONDS = Pattern.compile("\"secondsPerToken\"\\s*:\\s*([-0-9.eE+]+)");
        private static final Pattern COLLECTIVE = Pattern.compile("\"collective\"\\s*:\\s*\"([^\"]*)\"");
        private static final Pattern STEP = Pattern.compile(
                "(\\d+) x (allreduce|reduce-scatter|reducescatter|allgather) \\d+ B \\(\\w+\\) on cards ([\\d,]+)");
        private static final Pattern WEIGHTS = Pattern.compile("\"weightBytes\"\\s*:\\s*(\\d+)");

        static Plan parse(String json) {
            Matcher seconds = SECONDS.matcher(json);
            if (!seconds.find()) {
                throw new IllegalArgumentException("the plan has no secondsPerToken");
            }
            double perToken = Double.parseDouble(seconds.group(1));
            if (!(perToken > 0)) {
                throw new IllegalArgumentException("the plan's secondsPerToken is " + perToken + ", not > 0");
            }
            int hops = 0;
            for (Matcher c = COLLECTIVE.matcher(json); c.find();) {
                Matcher step = STEP.matcher(c.group(1));
                if (step.lookingAt()) {
                    int p = step.group(3).split(",").length;
                    hops += Integer.parseInt(step.group(1)) * (step.group(2).equals("allreduce") ? 2 : 1) * (p - 1);
                }
            }
            long weights = 0;
            for (Matcher w = WEIGHTS.matcher(json); w.find();) {
                weights = Math.max(weights, Long.parseLong(w.group(1)));
            }
            return new Plan(perToken, hops, weights);
        }
    }

    /**
     * This machine as the rule sees it.
     *
     * @param coreBytesPerSecond the weight bytes one core's emulator computes per second (decode)
     * @param hopSeconds a link hop's real cost with one card per core
     */
    record Machine(int cores, double load, double coreBytesPerSecond, double hopSeconds) {
        Machine {
            if (cores < 1 || !(coreBytesPerSecond > 0) || !(hopSeconds >= 0) || !(load >= 0)) {
                throw new IllegalArgumentException("cores >= 1, a rate > 0, a hop cost >= 0 and a load >= 0, got "
                        + cores + ", " + coreBytesPerSecond + ", " + hopSeconds + ", " + load);
            }
        }
    }

    /** The real seconds a token's work takes the emulators, estimated from the plan (before any margin). */
    static double estimatedRealSeconds(int cards, Plan plan, Machine machine) {
        double share = Math.max(1.0, (double) cards / machine.cores());
        double compute = share * plan.busiestCardWeightBytes() / machine.coreBytesPerSecond();
        double hops = plan.hops() * machine.hopSeconds() * share;
        return compute + hops;
    }

    /** K for decoding {@code plan} on {@code cards} cards. */
    static int dilation(int cards, Plan plan, Machine machine, int arithmeticK,
            OptionalDouble unshapedSecondsPerToken) {
        if (cards < 1) {
            throw new IllegalArgumentException("cards >= 1, got " + cards);
        }
        double real = unshapedSecondsPerToken.isPresent()
                ? MEASURED_MARGIN * unshapedSecondsPerToken.getAsDouble()
                : Math.max(2.0, 1.0 + machine.load()) * estimatedRealSeconds(cards, plan, machine);
        long k = (long) Math.ceil(real / plan.secondsPerToken() - 1e-9);
        return (int) Math.max(Math.max(1, arithmeticK), Math.min(Integer.MAX_VALUE, k));
    }

    /** The margin on a measured unshaped token: the measurement holds the sitting's load already. */
    static final double MEASURED_MARGIN = 3.0;

    private static final Pattern MEASURED = Pattern.compile("\"measuredSecondsPerToken\"\\s*:\\s*([-0-9.eE+]+)");

    /** The measured seconds per token of a {@code run --json} document. */
    static double measuredSecondsPerToken(String runJson) {
        Matcher m = MEASURED.matcher(runJson);
        if (!m.find()) {
            throw new IllegalArgumentException("the run has no measuredSecondsPerToken");
        }
        return Double.parseDouble(m.group(1));
    }

    /**
     * {@code java -cp benchmarks.jar org.popsolutions.spanker.benchmarks.DecodeDilation --cards N --cores C --load L
     * --arithmetic K --core-gbps G --hop-micros H [--unshaped-run RUN.json] < plan.json}: prints K (and, with
     * --explain, the terms on stderr).
     */
    public static void main(String[] args) throws IOException {
        Integer cards = null;
        Integer cores = null;
        Double load = null;
        int arithmetic = 1;
        double coreGbps = 0.4;
        double hopMicros = 300;
        Path unshaped = null;
        boolean explain = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--cards" -> cards = Integer.parseInt(args[++i]);
                    case "--cores" -> cores = Integer.parseInt(args[++i]);
                    case "--load" -> load = Double.parseDouble(args[++i]);
                    case "--arithmetic" -> arithmetic = Integer.parseInt(args[++i]);
                    case "--core-gbps" -> coreGbps = Double.parseDouble(args[++i]);
                    case "--hop-micros" -> hopMicros = Double.parseDouble(args[++i]);
                    case "--unshaped-run" -> unshaped = Path.of(args[++i]);
                    case "--explain" -> explain = true;
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (cards == null || cores == null || load == null) {
                throw new IllegalArgumentException("--cards, --cores and --load are required");
            }
            Plan plan = Plan.parse(read(System.in));
            Machine machine = new Machine(cores, load, coreGbps * 1e9, hopMicros * 1e-6);
            OptionalDouble measured = unshaped == null ? OptionalDouble.empty()
                    : OptionalDouble.of(measuredSecondsPerToken(Files.readString(unshaped)));
            int k = dilation(cards, plan, machine, arithmetic, measured);
            if (explain) {
                System.err.printf(Locale.ROOT, "decode dilation, %d cards: estimated %.1f ms real a token (%d hops,"
                        + " busiest card %d weight bytes), unshaped %s, predicted %.3f ms, load %.2f, arithmetic K %d:"
                        + " K = %d%n", cards, estimatedRealSeconds(cards, plan, machine) * 1e3, plan.hops(),
                        plan.busiestCardWeightBytes(), measured.isPresent() ? String.format(Locale.ROOT, "%.1f ms",
                        measured.getAsDouble() * 1e3) : "not measured", plan.secondsPerToken() * 1e3, load,
                        arithmetic, k);
            }
            System.out.println(k);
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            System.err.println("DecodeDilation: " + (e instanceof ArrayIndexOutOfBoundsException
                    ? "an option lacks its value" : e.getMessage()));
            System.exit(2);
        }
    }

    private static String read(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
