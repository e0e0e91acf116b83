package org.popsolutions.spanker.api.model;

/**
 * One weight tensor of a model, as stored.
 *
 * @param type the ggml type name, e.g. {@code Q4_0}
 * @param rows rows (output features of a matmul weight; ne[1])
 * @param rowLength values per row (input features; ne[0])
 * @param bytes stored size
 * @param blockValues values per quantization block of the type (1 for F32/F16/BF16); a tensor can only be split
 *        inside a row at multiples of it
 * @param layer the block index for {@code blk.N.*} tensors, −1 for the others
 */
public record TensorShape(String name, String type, long rows, long rowLength, long bytes, int blockValues, int layer) {
    public long bytesPerRow() {
        return rows == 0 ? 0 : bytes / rows;
    }
}
