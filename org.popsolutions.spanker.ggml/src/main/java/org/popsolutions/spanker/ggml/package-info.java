/**
 * GGUF files, ggml quant formats and kernels. Private implementation packages: {@code .quant} (one reference
 * format per ggml type, bit-exact with ggml), {@code .kernel} (dot products, matvec/matmul, MatmulInt4 service),
 * {@code .gguf} (validated reader, writer), {@code .command} (console commands).
 */
package org.popsolutions.spanker.ggml;
