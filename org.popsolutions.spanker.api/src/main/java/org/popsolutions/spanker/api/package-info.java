/** Errors every Spanker service reports: one hierarchy, each with a kind a script can match on. */
@Export
@Version("1.1.0")
package org.popsolutions.spanker.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
