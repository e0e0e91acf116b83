/** What Spanker measures while it runs (cards, links, collectives), in a form monitoring systems read. */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.api.metrics;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
