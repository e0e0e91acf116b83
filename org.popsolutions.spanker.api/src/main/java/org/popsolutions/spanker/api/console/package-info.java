/** Console commands shared by the Karaf shell and the standalone launcher. */
@Export
@Version("1.2.0")
package org.popsolutions.spanker.api.console;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
