/** Charts of measured and predicted series, written as SVG files. */
@Export
@Version("1.1.0")
package org.popsolutions.spanker.api.plot;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
