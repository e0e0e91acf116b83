/** GGUF files, ggml quant formats and kernels (being built). */
package org.popsolutions.spanker.ggml;
