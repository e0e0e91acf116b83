/** ggml's tensor types and one reference format per computable type, bit-exact with ggml (SPEC §7). */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.ggml.quant;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
