/** Dot products, matrix-vector and matrix-matrix products over ggml weight rows (scalar and Vector API), the host's MatmulInt4. */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.ggml.kernel;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
