/** ggml tensor types, their block layouts (one traits table), and their bit-exact encoders and decoders. */
@Export
@Version("1.1.0")
package org.popsolutions.spanker.ggml.quant;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
