/**
 * The inter-card link model: from lanes, line coding, framing and latencies to payload bandwidth,
 * round-trip latency, flow-control behaviour and the predicted time of collectives.
 */
@Export
@Version("1.2.0")
package org.popsolutions.spanker.api.link;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
