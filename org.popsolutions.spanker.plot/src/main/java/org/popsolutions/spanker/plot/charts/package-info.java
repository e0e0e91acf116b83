/** Charts the commands and the web view draw alike, built from the platform's records. */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.plot.charts;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
