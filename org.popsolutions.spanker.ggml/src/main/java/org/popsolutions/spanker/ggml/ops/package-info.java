/**
 * The card runtime SPI's ops as arithmetic: what a card computes for RMSNorm, RoPE, attention, SwiGLU, add, divide,
 * the origin tags and every combine of SPEC §4, written once. Every card that runs the SPI's programs on the host's
 * kernels (the in-process mock cards, the emulated cards in their own processes) computes through here, so they
 * agree bit for bit; each keeps its own memory, links and program bookkeeping. {@link OpDispatch} is the one switch
 * over the op kinds that both hand their ops through ({@link OpHandler}).
 */
@Export
@Version("1.4.0")
package org.popsolutions.spanker.ggml.ops;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
