/**
 * GGUF files, ggml quant formats and kernels, exported for the model, runtime and device bundles: {@code .gguf}
 * (validated reader, writer), {@code .quant} (one reference format per ggml type, bit-exact with ggml),
 * {@code .kernel} (dot products, matvec/matmul, the host's MatmulInt4 service). No console dependency.
 */
package org.popsolutions.spanker.ggml;
