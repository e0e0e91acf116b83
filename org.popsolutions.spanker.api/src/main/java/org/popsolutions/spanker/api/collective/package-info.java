/** Collective operations over per-card buffers: on host arrays ({@link CollectiveEngine}) or as card-side programs over card buffers ({@link CardCollectives}). */
@Export
@Version("1.2.0")
package org.popsolutions.spanker.api.collective;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
