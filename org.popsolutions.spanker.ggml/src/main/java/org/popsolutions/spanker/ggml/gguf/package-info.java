/** GGUF files: a validated reader (memory-mapped) and a writer (SPEC §7). */
@Export
@Version("1.1.0")
package org.popsolutions.spanker.ggml.gguf;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
