/** Collective operations over per-card buffers. */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.api.collective;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
