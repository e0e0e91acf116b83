/** The three-tier bandwidth model (local DDR, inter-card LVDS, host GbE) and its invariants. */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.api.bandwidth;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
