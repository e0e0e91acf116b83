package org.popsolutions.spanker.cluster.wire;

/**
 * The 24-byte big-endian header in front of every message: magic "LQRM", version, type, sender level, target
 * level (Linqu's reserved byte), payload size, sender l6 l5 l4 l3_hi l3_lo, target the same, 2 bytes of padding.
 */
public record Header(MessageType type, Address sender, Address target, int payloadSize) {
    public static final int SIZE = 24;
    public static final int MAGIC = 0x4C51524D;
    /** Linqu's header is version 1; 2 marks this protocol's additions (target level, failure status, tensors). */
    public static final int VERSION = 2;
    /** Largest payload accepted: a tensor or a shipped bundle up to 64 MiB. */
    public static final int MAX_PAYLOAD = 64 << 20;
}
