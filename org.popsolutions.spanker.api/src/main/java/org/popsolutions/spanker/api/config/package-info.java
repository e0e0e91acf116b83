/** Reading Config Admin properties with one set of rules for every Spanker component. */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.api.config;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
