/** Cards, the directed links between them, and the topology the scheduler assembles from them. */
@Export
@Version("1.2.0")
package org.popsolutions.spanker.api.topology;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
