/** Compute services a card (or the host) offers: the int4 matmul the Sails matmul unit implements. */
@Export
@Version("1.1.0")
package org.popsolutions.spanker.api.compute;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
