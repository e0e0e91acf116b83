/**
 * The host-link protocol of docs/protocol.md: frames (magic, version, type, request id, length, payload, CRC32C),
 * the message payloads, the SPI program codec and the HMAC handshake. Both ends use it: {@code device.sails} on the
 * host and the card emulator (a card firmware implements the same document). Every field read from the wire is
 * checked against its bound before it is used; a violation is a {@link org.popsolutions.spanker.protocol.MalformedFrameException}.
 */
@Export
@Version("1.5.0")
package org.popsolutions.spanker.protocol;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
