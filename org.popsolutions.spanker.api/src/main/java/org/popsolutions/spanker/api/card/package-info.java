/**
 * The card runtime SPI: the one road from the host to a card. Everything that runs a model or a collective asks a
 * {@link org.popsolutions.spanker.api.card.SailCard} to do it, so a device bundle (in-process mock, emulated cards
 * in separate processes, real Sails behind the GbE host link) drops in without touching its callers.
 *
 * <p>What a card offers, shaped after a rev-A Sails card (DDR behind a host link, inter-card ports, a work queue)
 * and after ggml's backend interface:
 * <ul>
 * <li><b>identity</b> ({@link org.popsolutions.spanker.api.card.CardIdentity}): index, name, firmware and protocol
 * version, DDR capacity, weight formats and ops it runs, its link ports;</li>
 * <li><b>memory</b>: buffers allocated in card DDR ({@link org.popsolutions.spanker.api.card.CardBuffer}); the
 * configured capacity counts, and a request that does not fit is refused with
 * {@link org.popsolutions.spanker.api.card.OutOfCardMemoryException} (card, requested, free);</li>
 * <li><b>host link</b>: {@code write}/{@code read} bytes at an offset of a buffer, counted per card;</li>
 * <li><b>work</b>: {@link org.popsolutions.spanker.api.card.Program}s, short lists of
 * {@link org.popsolutions.spanker.api.card.Op}s over resident buffers, completed asynchronously;</li>
 * <li><b>links</b>: {@link org.popsolutions.spanker.api.card.Op.Send}/{@link org.popsolutions.spanker.api.card.Op.Receive}
 * ops move buffer ranges to and from the neighbour on a port, optionally reducing on receive; each port has a
 * {@link org.popsolutions.spanker.api.topology.LinkState}, and a change is posted to EventAdmin
 * ({@link org.popsolutions.spanker.api.card.CardEvents});</li>
 * <li><b>telemetry</b> ({@link org.popsolutions.spanker.api.card.CardTelemetry}).</li>
 * </ul>
 *
 * <p>Every op and program is a plain record of numbers, enums and {@link org.popsolutions.spanker.api.card.Slice}s,
 * so a wire protocol can carry it field by field (each op and enum constant has a fixed numeric code). Activations
 * in card buffers are float32, little-endian; weights are in ggml's block layout (SPEC §7), rows back to back.
 */
@Export
@Version("1.5.0")
package org.popsolutions.spanker.api.card;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
