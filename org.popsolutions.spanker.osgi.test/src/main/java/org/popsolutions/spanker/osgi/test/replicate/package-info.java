/** Test-only strategy provider installed and uninstalled by the hot-swap OSGi test. Private: nothing exported. */
package org.popsolutions.spanker.osgi.test.replicate;
