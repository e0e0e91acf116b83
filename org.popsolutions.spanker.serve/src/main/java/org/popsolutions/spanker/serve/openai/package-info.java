/**
 * The OpenAI-compatible protocol, independent of the HTTP server: a server adapter hands each request to
 * {@link org.popsolutions.spanker.serve.openai.OpenAiProtocol} as an
 * {@link org.popsolutions.spanker.serve.openai.Exchange}.
 */
@Export
@Version("1.1.0")
package org.popsolutions.spanker.serve.openai;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
