/** The plan executor: a plan's shards placed on cards, decode run through the card runtime SPI. */
@Export
@Version("1.1.0")
package org.popsolutions.spanker.runtime;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
