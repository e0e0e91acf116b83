/**
 * Row dot products and matrix-vector products over ggml weight blocks: the scalar reference kernels (the
 * definition of every result), the portable Vector API kernels, and the ranked registry through which other
 * bundles (the native AVX2 provider) contribute faster ones.
 */
@Export
@Version("1.4.0")
package org.popsolutions.spanker.ggml.kernel;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
