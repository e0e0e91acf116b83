package org.popsolutions.spanker.protocol;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The HMAC-SHA256 challenge/response of HELLO (docs/protocol.md, "Authentication"): each side sends a fresh 32-byte
 * nonce and proves it holds the fleet secret by a MAC over both nonces, with a different label per direction so a
 * proof can never be reflected back.
 */
public final class Handshake {
    public static final int NONCE_BYTES = 32;
    public static final int PROOF_BYTES = 32;
    /** Shortest fleet secret accepted. */
    public static final int MIN_SECRET_BYTES = 16;
    private static final byte[] CARD_LABEL = "sails-card-proof-v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST_LABEL = "sails-host-proof-v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private Handshake() {
    }

    public static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /** A new fleet secret. */
    public static byte[] newSecret() {
        byte[] s = new byte[32];
        RANDOM.nextBytes(s);
        return s;
    }

    /** What the card sends: MAC(secret, card label | host nonce | card nonce). */
    public static byte[] cardProof(byte[] secret, byte[] hostNonce, byte[] cardNonce) {
        return mac(secret, CARD_LABEL, hostNonce, cardNonce);
    }

    /** What the host sends: MAC(secret, host label | card nonce | host nonce). */
    public static byte[] hostProof(byte[] secret, byte[] hostNonce, byte[] cardNonce) {
        return mac(secret, HOST_LABEL, cardNonce, hostNonce);
    }

    /** Constant-time comparison. */
    public static boolean matches(byte[] expected, byte[] actual) {
        return MessageDigest.isEqual(expected, actual);
    }

    private static byte[] mac(byte[] secret, byte[] label, byte[] first, byte[] second) {
        if (secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("a fleet secret has at least " + MIN_SECRET_BYTES + " bytes, got "
                    + secret.length);
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(label);
            mac.update(first);
            mac.update(second);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime: " + e.getMessage(), e);
        }
    }
}
