package org.popsolutions.spanker.card.emulator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.popsolutions.spanker.protocol.Handshake;

/**
 * How one emulated card runs. Rates default to rev-A (SPEC §1, §2; the link model's REV_A parameters): host link
 * 100 MB/s + 50 µs, link payload 500 MB/s × 512/524 (8-byte header and 4-byte CRC per 512-byte frame) + 1 µs,
 * DDR 2 GB/s, reduce 667 MB/s.
 */
record EmulatorOptions(String bind, int hostPort, int linkPort, String serial, long memoryBytes, byte[] secret,
        boolean unshaped, double hostLinkBytesPerSecond, double hostLinkLatencySeconds, double linkBytesPerSecond,
        double linkLatencySeconds, double ddrBytesPerSecond, double reduceBytesPerSecond, long receiveTimeoutMillis,
        long trainTimeoutMillis, int threads, boolean bench, boolean traceTiming, double timeDilation,
        double hostLinkDilation) {
    /** The largest time dilation: a card 1000 times slower than rev-A is past any use (and past the wire's bound). */
    static final double MAX_DILATION = org.popsolutions.spanker.protocol.Messages.HelloReply.MAX_TIME_DILATION;

    static final String USAGE = String.join("\n",
            "usage: java -cp <emulator jars> org.popsolutions.spanker.card.emulator.CardEmulatorMain --secret-file FILE [options]",
            "One emulated Sails card: answers the host-link protocol (docs/protocol.md) and prints",
            "'READY <host-link port> <link port> <pid>' on stdout once it listens.",
            "  --secret-file FILE        the fleet secret (hex, >= 16 bytes); required",
            "  --bind ADDRESS            listen address (default 127.0.0.1)",
            "  --host-port P             host-link port (default 0: any free port)",
            "  --link-port P             inter-card link port (default 0: any free port)",
            "  --serial S                card serial (default sails-emu-<pid>)",
            "  --memory BYTES            DDR capacity (default 4294967296)",
            "  --unshaped                run as fast as the host can (no rate shaping)",
            "  --host-link-bps R         host-link rate in bytes/s (default 1e8)",
            "  --host-link-latency S     host-link latency per transfer in s (default 5e-5)",
            "  --link-bps R              link payload rate per direction in bytes/s (default 4.885496e8)",
            "  --link-latency S          link latency per message in s (default 1e-6)",
            "  --ddr-bps R               DDR bandwidth compute is paced at, bytes/s (default 2e9)",
            "  --reduce-bps R            rate a RECEIVE or REDUCE combines float32 values at, bytes/s (default 6.67e8)",
            "  --receive-timeout-ms T    how long a RECEIVE waits without progress on any card it hears from",
            "                            (default 10000)",
            "  --trace-timing            log each program's modelled and measured time (also: environment",
            "                            SPANKER_EMULATOR_TIMING=1)",
            "  --train-timeout-ms T      how long link training may take (default 10000)",
            "  --threads N               compute threads (default 1)",
            "  --dilation K              run every modelled time K times slower than rev-A (1 <= K <= 1000, default",
            "                            1): compute, link and host-link rates / K, latencies x K, the receive",
            "                            timeout x K (at most 5 minutes); announced in HELLO_REPLY so hosts scale",
            "                            what they measure back by K",
            "  --host-link-dilation KH   run the host link alone KH times slower than rev-A instead (1 <= KH <=",
            "                            1000, default K): its rate / KH, latency x KH; announced in HELLO_REPLY",
            "                            (protocol 1.3) so a host paces its NIC alike",
            "  --exit-with PID           end when process PID ends (a host that owns its cards: they go with it)",
            "  --bench                   also open a raw TCP sink/echo port (printed as a 5th READY field) for",
            "                            measuring the protocol against bare TCP between the same processes");

    static final double REV_A_LINK_PAYLOAD = 500e6 * 512 / 524;

    static EmulatorOptions parse(List<String> args) throws IOException {
        String bind = "127.0.0.1";
        int hostPort = 0;
        int linkPort = 0;
        String serial = "sails-emu-" + ProcessHandle.current().pid();
        long memory = 4L << 30;
        Path secretFile = null;
        boolean unshaped = false;
        double hostBps = 100e6;
        double hostLatency = 50e-6;
        double linkBps = REV_A_LINK_PAYLOAD;
        double linkLatency = 1e-6;
        double ddrBps = 2e9;
        double reduceBps = 667e6;
        boolean trace = "1".equals(System.getenv("SPANKER_EMULATOR_TIMING"));
        long receiveTimeout = 10_000;
        long trainTimeout = 10_000;
        int threads = 1;
        boolean bench = false;
        double dilation = 1;
        double hostLinkDilation = Double.NaN;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--trace-timing")) {
                trace = true;
                continue;
            }
            if (a.equals("--unshaped") || a.equals("--bench")) {
                unshaped |= a.equals("--unshaped");
                bench |= a.equals("--bench");
                continue;
            }
            if (i + 1 >= args.size()) {
                throw new IllegalArgumentException(a.startsWith("--") ? a + " needs a value" : "unexpected '" + a + "'");
            }
            String v = args.get(++i);
            switch (a) {
                case "--bind" -> bind = v;
                case "--host-port" -> hostPort = Integer.parseInt(v);
                case "--link-port" -> linkPort = Integer.parseInt(v);
                case "--serial" -> serial = v;
                case "--memory" -> memory = Long.parseLong(v);
                case "--secret-file" -> secretFile = Path.of(v);
                case "--host-link-bps" -> hostBps = Double.parseDouble(v);
                case "--host-link-latency" -> hostLatency = Double.parseDouble(v);
                case "--link-bps" -> linkBps = Double.parseDouble(v);
                case "--link-latency" -> linkLatency = Double.parseDouble(v);
                case "--ddr-bps" -> ddrBps = Double.parseDouble(v);
                case "--reduce-bps" -> reduceBps = Double.parseDouble(v);
                case "--receive-timeout-ms" -> receiveTimeout = Long.parseLong(v);
                case "--train-timeout-ms" -> trainTimeout = Long.parseLong(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--dilation" -> dilation = parseDilation(a, v);
                case "--host-link-dilation" -> hostLinkDilation = parseDilation(a, v);
                default -> throw new IllegalArgumentException("unknown option '" + a + "'");
            }
        }
        if (secretFile == null) {
            throw new IllegalArgumentException("--secret-file is required: the card drives nothing without the fleet secret");
        }
        if (memory <= 0 || threads < 1 || hostBps < 0 || linkBps < 0 || ddrBps < 0 || reduceBps < 0 || receiveTimeout < 1
                || trainTimeout < 1) {
            throw new IllegalArgumentException("memory, threads, timeouts must be > 0 and rates >= 0");
        }
        return new EmulatorOptions(bind, hostPort, linkPort, serial, memory, readSecret(secretFile), unshaped, hostBps,
                hostLatency, linkBps, linkLatency, ddrBps, reduceBps, receiveTimeout, trainTimeout, threads, bench, trace,
                dilation, Double.isNaN(hostLinkDilation) ? dilation : hostLinkDilation);
    }

    /** A time dilation K: a number, 1 <= K <= 1000, or one line saying what is wrong. */
    static double parseDilation(String option, String text) {
        double k;
        try {
            k = Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a number K >= 1 (how many times slower than rev-A"
                    + " the card runs), got '" + text + "'");
        }
        if (!(k >= 1 && k <= MAX_DILATION)) {
            throw new IllegalArgumentException(option + " must be within 1.." + (int) MAX_DILATION + " (1 = rev-A"
                    + " pace), got " + text);
        }
        return k;
    }

    /** A modelled rate as this card runs it: K times slower. */
    double dilatedRate(double bytesPerSecond) {
        return bytesPerSecond / timeDilation;
    }

    /**
     * The receive timeout as this card runs it: a dilated card's ops take K times longer, so it waits K times longer
     * for progress too (the firmware's timeout is in card time), but never more than 5 minutes of real time unless
     * asked for, so a real deadlock on a much dilated fleet still ends.
     */
    long dilatedReceiveTimeoutMillis() {
        long dilated = (long) Math.min(Long.MAX_VALUE / 2_000_000L, receiveTimeoutMillis * timeDilation);
        return Math.max(receiveTimeoutMillis, Math.min(dilated, 300_000L));
    }

    /** The host link's rate as this card runs it: KH times slower than configured. */
    double hostLinkRate() {
        return hostLinkBytesPerSecond / hostLinkDilation;
    }

    /** The host link's latency as this card runs it: KH times longer. */
    double hostLinkLatency() {
        return hostLinkLatencySeconds * hostLinkDilation;
    }

    /** A modelled duration as this card runs it: K times longer. */
    double dilatedSeconds(double seconds) {
        return seconds * timeDilation;
    }

    /** A secret file holds the secret in hex (whitespace ignored). */
    static byte[] readSecret(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        byte[] secret;
        try {
            secret = HexFormat.of().parseHex(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("secret file " + file + " does not hold a hex secret");
        }
        if (secret.length < Handshake.MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("secret file " + file + " holds " + secret.length + " bytes; a fleet"
                    + " secret has at least " + Handshake.MIN_SECRET_BYTES);
        }
        return secret;
    }
}
