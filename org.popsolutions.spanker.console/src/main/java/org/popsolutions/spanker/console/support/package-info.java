/**
 * Support for writing {@link org.popsolutions.spanker.api.console.ConsoleCommand}s: argument parsing
 * against a spec, help text, and a report that renders as tables or JSON. Any bundle may contribute
 * commands with it.
 */
@Export
@Version("1.3.0")
package org.popsolutions.spanker.console.support;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
