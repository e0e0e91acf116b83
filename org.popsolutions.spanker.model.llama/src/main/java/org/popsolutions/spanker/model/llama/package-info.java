/** The llama family: configuration read from GGUF, tokenizers, sampler, synthetic models, the planner's model reader, manual plans. */
@Export
@Version("1.2.0")
package org.popsolutions.spanker.model.llama;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
