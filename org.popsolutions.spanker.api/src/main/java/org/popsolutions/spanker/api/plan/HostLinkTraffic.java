package org.popsolutions.spanker.api.plan;

/**
 * The host-link payloads a decode step costs besides activations and logits, in bytes: one fact for the runtime that
 * sends them, the planners that cost them and the wire protocol that carries them (its tests hold it to these sizes).
 */
public interface HostLinkTraffic {
    /** A token's step as the host writes it to each card that holds weights: i32 token id, i32 position. */
    long STEP_BYTES = 8;
    /** A COMPLETE's payload to a protocol 1.2 host: u32 ops, u64 busy ns, i64 start, i64 finish. */
    long COMPLETE_BYTES = 28;
    /** A READ request's payload: u64 buffer handle, u64 offset, u32 length. */
    long READ_REQUEST_BYTES = 20;
}
