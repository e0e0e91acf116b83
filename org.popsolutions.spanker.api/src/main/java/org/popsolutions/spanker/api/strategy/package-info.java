/** Partition strategies: how a tile of work is split across cards, and at what predicted cost. */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.api.strategy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
