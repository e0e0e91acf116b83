/** How a model is laid out over the cards, and what it is predicted to cost per token. */
@Export
@Version("1.3.0")
package org.popsolutions.spanker.api.plan;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
