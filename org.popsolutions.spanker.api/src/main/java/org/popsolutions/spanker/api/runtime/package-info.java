/**
 * Inference as a service: a model placed on the cards by a plan ({@link InferenceService#load}), text generated
 * from it token by token with a listener that sees each token as it comes and may cancel, and observers (the web
 * view, the metrics) that see every load and token of every caller.
 */
@Export
@Version("1.3.0")
package org.popsolutions.spanker.api.runtime;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
