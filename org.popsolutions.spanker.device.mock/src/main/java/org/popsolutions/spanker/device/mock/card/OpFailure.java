package org.popsolutions.spanker.device.mock.card;

/** Why an op failed; the card turns it into a CardOpException naming the program and the op. */
final class OpFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OpFailure(String reason) {
        super(reason, null, false, false);
    }
}
