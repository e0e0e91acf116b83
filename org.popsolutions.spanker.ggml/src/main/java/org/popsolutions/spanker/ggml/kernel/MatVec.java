package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * Matrix-vector and matrix-matrix products over weight rows stored back to back (ggml layout: row r of a
 * rows×cols tensor starts at byte r·rowBytes), parallel across rows.
 */
public final class MatVec {
    private final Kernels kernels;
    private final RowExecutor executor;

    /**
     * Whether a matrix-vector product is first offered whole to the kernels' own threads
     * ({@link Kernels#dotRowsOnThreads}); {@code -Dspanker.rows.providerThreads=false} keeps every product on the
     * executor's threads (for measuring one against the other in one build).
     */
    static final boolean ON_PROVIDER_THREADS =
            Boolean.parseBoolean(System.getProperty("spanker.rows.providerThreads", "true"));

    public MatVec(Kernels kernels, RowExecutor executor) {
        this.kernels = kernels;
        this.executor = executor;
    }

    public Kernels kernels() {
        return kernels;
    }

    /**
     * Whether a one-vector product of {@code type} in {@code mode} reads {@link PackedWeights} now: the type has a
     * packed layout, the activation is quantized (ggml mode) and the kernels are the portable Vector API ones. A card
     * packs its weights only then, since the packed copy is extra memory.
     */
    public boolean readsPacked(GgmlType type, DotMode mode) {
        return mode == DotMode.GGML && PackedWeights.packs(type) && PackedWeights.readBy(kernels);
    }

    /** out[r] = Σ_c W[r][c]·x[c] for r in [0, rows). */
    public void matvec(GgmlType type, ByteBuffer weights, int rows, int cols, float[] x, float[] out, DotMode mode) {
        long rowBytes = checkShape(type, weights, rows, cols);
        if (x.length < cols || out.length < rows) {
            throw new IllegalArgumentException("matvec " + rows + "x" + cols + ": activation has " + x.length
                    + " values, output " + out.length);
        }
        PreparedActivation a = PreparedActivation.prepare(type, mode, x, 0, cols);
        rows(KernelSelector.resolve(kernels), weights, rowBytes, rows, a, out);
    }

    /** {@code kernels} resolved for this one product ({@link KernelSelector#resolve}). */
    private void rows(Kernels kernels, ByteBuffer weights, long rowBytes, int rows, PreparedActivation a,
            float[] out) {
        // a provider with threads of its own takes the whole product in one call (the native one: one JNI call, the
        // activation prepared once, instead of one of each per chunk); the executor's thread count is the user's
        if (ON_PROVIDER_THREADS && executor.threads() > 1
                && kernels.dotRowsOnThreads(weights, 0, (int) rowBytes, rows, a, out, 0, executor.threads())) {
            return;
        }
        executor.forRows(rows, (from, to) -> kernels.dotRows(weights, (int) (from * rowBytes), (int) rowBytes,
                to - from, a, out, from));
    }

    /**
     * {@link #matvec(GgmlType, ByteBuffer, int, int, float[], float[], DotMode)} of repacked weights: the portable
     * Vector API kernels read the packed layout (ggml mode), every other provider and the float mode the ggml bytes.
     */
    public void matvec(PackedWeights weights, float[] x, float[] out, DotMode mode) {
        int rows = weights.rows();
        int cols = weights.cols();
        if (x.length < cols || out.length < rows) {
            throw new IllegalArgumentException("matvec " + rows + "x" + cols + ": activation has " + x.length
                    + " values, output " + out.length);
        }
        PreparedActivation a = PreparedActivation.prepare(weights.type(), mode, x, 0, cols);
        Kernels kernels = KernelSelector.resolve(this.kernels);
        PackedWeights.RowKernel packed = PackedWeights.kernelFor(kernels, a);
        if (packed == null) {
            // the ggml bytes, on the activation just prepared (quantizing it again cost a Q8_K activation's 14336
            // values about 70 µs, 5 % of a 4096-row Q4_K product on the native kernels)
            rows(kernels, weights.ggml(), checkShape(weights.type(), weights.ggml(), rows, cols), rows, a, out);
            return;
        }
        executor.forRows(rows, 1, PACKED_CHUNKS_PER_THREAD, PACKED_SMALLEST_CHUNK_ROWS,
                (from, to) -> packed.dotRows(weights, from, to - from, a, out, from));
    }

    /**
     * Chunks per thread, and the smallest chunk in rows, of a one-vector product of packed weights (the executor's
     * defaults: 16 and 16). Each chunk starts one weight stream per column panel from DRAM afresh (its rows of every
     * panel), and a stream's first lines wait for memory before the hardware prefetcher is ahead: the chunks of one
     * thread of a two-thread 4096×14336 Q4_K product under the default rule (40 chunks, every other one) took 22-23 %
     * more CPU than the whole product in one call, under this rule (16 chunks) 10 % (Java 25, one thread running each
     * plan, alternated in one JVM, loaded; in the cache, chunks cost nothing). Larger chunks wait longer for a thread
     * held up in one: the largest is 512 rows here, about 0.2 ms.
     */
    static final int PACKED_CHUNKS_PER_THREAD = 4;
    static final int PACKED_SMALLEST_CHUNK_ROWS = 64;

    /**
     * out[j][r] = Σ_c W[r][c]·x[j][c]: each of the {@code x.length} activation vectors (e.g. a prompt's tokens)
     * against every row, in one pass over the weights. Rows go in tiles of about {@value #TILE_BYTES} bytes: every
     * activation is run over a tile (one {@link Kernels#dotRows} call each) while the tile is still in the core's
     * cache, so the weights are read from memory once for all vectors. Each result equals that vector's
     * {@link #matvec}.
     */
    public void matmul(GgmlType type, ByteBuffer weights, int rows, int cols, float[][] x, float[][] out,
            DotMode mode) {
        long rowBytes = checkShape(type, weights, rows, cols);
        if (out.length < x.length) {
            throw new IllegalArgumentException("matmul: " + x.length + " activation vectors but " + out.length
                    + " outputs");
        }
        PreparedActivation[] prepared = new PreparedActivation[x.length];
        for (int j = 0; j < x.length; j++) {
            if (x[j].length < cols || out[j].length < rows) {
                throw new IllegalArgumentException("matmul " + rows + "x" + cols + ": vector " + j + " has "
                        + x[j].length + " values, its output " + out[j].length);
            }
            prepared[j] = PreparedActivation.prepare(type, mode, x[j], 0, cols);
        }
        int tile = (int) Math.max(1, TILE_BYTES / Math.max(1, rowBytes));
        Kernels kernels = KernelSelector.resolve(this.kernels);
        executor.forRows(rows, (from, to) -> {
            for (int r = from; r < to; r += tile) {
                int n = Math.min(tile, to - r);
                for (int j = 0; j < prepared.length; j++) {
                    kernels.dotRows(weights, (int) (r * rowBytes), (int) rowBytes, n, prepared[j], out[j], r);
                }
            }
        });
    }

    /**
     * A product of one shape prepared once and run many times (one per op of a card program): its activation
     * workspace and its row work are allocated here, so a run allocates nothing of its own.
     */
    public Product product(GgmlType type, int rows, int cols, int maxVectors, DotMode mode) {
        return new Product(type, rows, cols, maxVectors, mode);
    }

    /**
     * {@code out[outAt + v·rows + r] = Σ_c W[r][c]·x[xAt + v·cols + c]} for up to {@code maxVectors} vectors at
     * once: one vector is a matrix-vector product ({@link Kernels#dotRows}), several a matrix-matrix product in
     * which the kernels may reuse each weight block for all of them ({@link Kernels#dotRowsBatch}). Not for use by
     * two threads at once.
     */
    public final class Product implements RowExecutor.RowRange {
        private MatVec owner() {
            return MatVec.this;
        }

        private final GgmlType type;
        private final int rows;
        private final int cols;
        private final int rowBytes;
        private final PreparedBatch batch;
        /** The vectors this product last ran on (its own batch, or the one it shared), for the next to share. */
        private PreparedBatch lastRunOn;
        /** The vectors of the running product: this product's own batch, or the one it shares. */
        private PreparedBatch current;
        private ByteBuffer weights;
        /** The running product's repacked weights and their kernel, or null (the ggml bytes are read). */
        private PackedWeights packed;
        private PackedWeights.RowKernel packedKernel;
        /** The kernels of the running product, resolved once when it is bound ({@link KernelSelector#resolve}). */
        private Kernels running;
        private float[] out;
        private int outAt;

        private Product(GgmlType type, int rows, int cols, int maxVectors, DotMode mode) {
            Kernels.checkRow(type, cols);
            if (rows < 0) {
                throw new IllegalArgumentException("negative row count " + rows);
            }
            this.type = type;
            this.rows = rows;
            this.cols = cols;
            this.rowBytes = Math.toIntExact(type.bytesFor(cols));
            this.batch = PreparedBatch.workspace(type, mode, cols, maxVectors);
        }

        public void run(ByteBuffer weights, float[] x, int xAt, int vectors, float[] out, int outAt) {
            checkRun(weights, vectors, out, outAt);
            batch.refill(x, xAt, vectors, executor);
            multiply(weights, batch, out, outAt);
        }

        /**
         * As {@link #run(ByteBuffer, float[], int, int, float[], int)} over the vectors {@code preparedBy} was last run
         * on (a product of the same weight type, mode and columns): products that read one activation (q, k and v;
         * gate and up) quantize it once. The activation must not have changed since.
         */
        public void runOnActivationOf(Product preparedBy, ByteBuffer weights, float[] out, int outAt) {
            PreparedBatch prepared = activationOf(preparedBy);
            checkRun(weights, prepared.count(), out, outAt);
            multiply(weights, prepared, out, outAt);
        }

        /**
         * {@link #run(ByteBuffer, float[], int, int, float[], int)} of repacked weights (of this product's type and
         * shape): a one-vector product on the portable Vector API kernels reads the packed layout, anything else the
         * ggml bytes.
         */
        public void run(PackedWeights weights, float[] x, int xAt, int vectors, float[] out, int outAt) {
            checkPacked(weights);
            checkRun(weights.ggml(), vectors, out, outAt);
            batch.refill(x, xAt, vectors, executor);
            multiply(weights, batch, out, outAt);
        }

        /** {@link #runOnActivationOf(Product, ByteBuffer, float[], int)} of repacked weights. */
        public void runOnActivationOf(Product preparedBy, PackedWeights weights, float[] out, int outAt) {
            checkPacked(weights);
            PreparedBatch prepared = activationOf(preparedBy);
            checkRun(weights.ggml(), prepared.count(), out, outAt);
            multiply(weights, prepared, out, outAt);
        }

        /**
         * As {@link #run(ByteBuffer, float[], int, int, float[], int)} for one vector, up to the rows: the activation is
         * prepared and the product bound to its weights and output, to run with others in one {@link Together#run}.
         */
        public void prepare(ByteBuffer weights, float[] x, int xAt, float[] out, int outAt) {
            checkRun(weights, 1, out, outAt);
            batch.refill(x, xAt, 1, executor);
            bind(null, weights, batch, out, outAt);
        }

        /** {@link #prepare(ByteBuffer, float[], int, float[], int)} of repacked weights. */
        public void prepare(PackedWeights weights, float[] x, int xAt, float[] out, int outAt) {
            checkPacked(weights);
            checkRun(weights.ggml(), 1, out, outAt);
            batch.refill(x, xAt, 1, executor);
            bind(weights, weights.ggml(), batch, out, outAt);
        }

        /** {@link #prepare(ByteBuffer, float[], int, float[], int)} on the activation {@code preparedBy} last ran on. */
        public void prepareOnActivationOf(Product preparedBy, ByteBuffer weights, float[] out, int outAt) {
            PreparedBatch prepared = activationOf(preparedBy);
            checkRun(weights, prepared.count(), out, outAt);
            bind(null, weights, prepared, out, outAt);
        }

        /** {@link #prepareOnActivationOf(Product, ByteBuffer, float[], int)} of repacked weights. */
        public void prepareOnActivationOf(Product preparedBy, PackedWeights weights, float[] out, int outAt) {
            checkPacked(weights);
            PreparedBatch prepared = activationOf(preparedBy);
            checkRun(weights.ggml(), prepared.count(), out, outAt);
            bind(weights, weights.ggml(), prepared, out, outAt);
        }

        /** The vectors {@code preparedBy} last ran on, for this product to run on too (same type, mode, columns). */
        private PreparedBatch activationOf(Product preparedBy) {
            PreparedBatch prepared = preparedBy.lastRunOn;
            if (prepared == null) {
                throw new IllegalStateException("the product to share an activation with has not run yet");
            }
            if (prepared.weightType() != type || prepared.mode() != batch.mode() || prepared.length() != cols) {
                throw new IllegalArgumentException("a product of " + cols + " " + type + " columns cannot run on an "
                        + "activation prepared for " + prepared.length() + " " + prepared.weightType() + " columns");
            }
            return prepared;
        }

        private void checkPacked(PackedWeights weights) {
            if (weights.type() != type || weights.rows() != rows || weights.cols() != cols) {
                throw new IllegalArgumentException("packed " + weights.rows() + "x" + weights.cols() + " "
                        + weights.type() + " weights in a product of " + rows + "x" + cols + " " + type);
            }
        }

        private void multiply(PackedWeights weights, PreparedBatch prepared, float[] out, int outAt) {
            bind(weights, weights.ggml(), prepared, out, outAt);
            runBound();
        }

        private void checkRun(ByteBuffer weights, int vectors, float[] out, int outAt) {
            if ((long) rowBytes * rows > weights.capacity()) {
                throw new IllegalArgumentException(rows + " rows of " + cols + " " + type + " need "
                        + (long) rowBytes * rows + " bytes, the buffer has " + weights.capacity());
            }
            if (outAt < 0 || (long) outAt + (long) vectors * rows > out.length) {
                throw new IllegalArgumentException(vectors + " outputs of " + rows + " values at " + outAt
                        + " outside an array of " + out.length);
            }
        }

        private void multiply(ByteBuffer weights, PreparedBatch prepared, float[] out, int outAt) {
            bind(null, weights, prepared, out, outAt);
            runBound();
        }

        private void runBound() {
            try {
                if (packedKernel != null) {
                    executor.forRows(rows, 1, PACKED_CHUNKS_PER_THREAD, PACKED_SMALLEST_CHUNK_ROWS, this);
                } else {
                    executor.forRows(rows, current.count() == 1 ? 1 : batchShare(rows, executor.threads()), this);
                }
            } finally {
                unbind();
            }
        }

        /**
         * Sets the running product's fields: the repacked weights (when given, one vector, and the kernels read them)
         * or the ggml bytes, the vectors, the output.
         */
        private void bind(PackedWeights packedWeights, ByteBuffer weights, PreparedBatch prepared, float[] out,
                int outAt) {
            Kernels running = KernelSelector.resolve(kernels);
            PackedWeights.RowKernel kernel = packedWeights != null && prepared.count() == 1
                    ? PackedWeights.kernelFor(running, prepared.vector(0)) : null;
            this.running = running;
            this.packed = kernel != null ? packedWeights : null;
            this.packedKernel = kernel;
            this.lastRunOn = prepared;
            this.current = prepared;
            this.weights = weights;
            this.out = out;
            this.outAt = outAt;
        }

        private void unbind() {
            this.current = null;
            this.weights = null;
            this.out = null;
            this.packed = null;
            this.packedKernel = null;
            this.running = null;
        }

        /** One thread's rows. */
        @Override
        public void run(int from, int to) {
            PreparedBatch vectors = current;
            PackedWeights.RowKernel kernel = packedKernel;
            if (kernel != null) {
                kernel.dotRows(packed, from, to - from, vectors.vector(0), out, outAt + from);
            } else if (vectors.count() == 1) {
                running.dotRows(weights, from * rowBytes, rowBytes, to - from, vectors.vector(0), out, outAt + from);
            } else {
                running.dotRowsBatch(weights, from * rowBytes, rowBytes, to - from, vectors, out, outAt + from, rows);
            }
        }
    }

    /**
     * Several one-vector products run as one call on the executor: their rows one range, split among the threads as
     * one product's would be (not offered whole to kernels with threads of their own, as {@link #matvec} is: tried, a
     * native pool call per product made two-thread TinyLlama Q4_0 decode 8-10 % slower, quietly, in 11 of 12 alternated
     * runs on Java 17 and 25, the JVM's row helpers and the pool's workers taking turns on the same two cores). Products
     * that read one activation (a block's q, k and v; gate and up) are handed to the
     * threads once instead of once each, and the small ones (k and v: 256 rows) are no longer cut into chunks of a
     * few rows each. Each row's result is its product's own, bit for bit (a row's dot does not depend on the split).
     * Made once (a decode step allocates nothing); not for use by two threads at once.
     */
    public Together together(Product... products) {
        return new Together(products);
    }

    /** See {@link #together}. */
    public final class Together implements RowExecutor.RowRange {
        private final Product[] parts;
        /** Part i's rows are [starts[i], starts[i + 1]) of the whole range. */
        private final int[] starts;

        private Together(Product[] products) {
            if (products.length == 0) {
                throw new IllegalArgumentException("no products to run together");
            }
            this.parts = products.clone();
            this.starts = new int[parts.length + 1];
            for (int i = 0; i < parts.length; i++) {
                if (parts[i].owner() != MatVec.this) {
                    throw new IllegalArgumentException("product " + i + " belongs to another MatVec");
                }
                starts[i + 1] = Math.addExact(starts[i], parts[i].rows);
            }
        }

        /**
         * Runs every product, each prepared first ({@link Product#prepare} or {@link Product#prepareOnActivationOf}),
         * on one vector.
         */
        public void run() {
            try {
                for (int i = 0; i < parts.length; i++) {
                    PreparedBatch v = parts[i].current;
                    if (v == null || v.count() != 1) {
                        throw new IllegalStateException("product " + i + " is not prepared for one vector");
                    }
                }
                executor.forRows(starts[parts.length], this);
            } finally {
                for (Product p : parts) {
                    p.unbind();
                }
            }
        }

        @Override
        public void run(int from, int to) {
            for (int i = 0; i < parts.length && from < to; i++) {
                int end = starts[i + 1];
                if (from < end) {
                    int stop = Math.min(to, end);
                    parts[i].run(from - starts[i], stop - starts[i]);
                    from = stop;
                }
            }
        }
    }

    /**
     * Rows a thread takes together in a product of several vectors: the matrix-matrix kernels work on groups of rows
     * (the native Q4_0 one 32 at a time, a short group padded with zero rows at full cost), so the threads' shares are
     * whole groups. A multiple of every batch kernel's group (8, 32).
     */
    static final int BATCH_ROW_GROUP = 32;

    /**
     * About this many chunks per thread for a product of several vectors (the executor's default is 16): every call of
     * a batch kernel prepares all the pass's vectors for itself (the native Q4_0 kernel converts every block of the
     * 64 vectors), which cost 8 % of a 2048×5632 product cut in 64-row chunks (one thread, against one call); a few
     * chunks per thread still let a thread that is held up take less.
     */
    static final int BATCH_CHUNKS_PER_THREAD = 4;

    /** A batch product's granule: whole {@link #BATCH_ROW_GROUP}s, about {@link #BATCH_CHUNKS_PER_THREAD} a thread. */
    static int batchShare(int rows, int threads) {
        int groups = (rows + BATCH_ROW_GROUP - 1) / BATCH_ROW_GROUP;
        return BATCH_ROW_GROUP * Math.max(1, groups / (BATCH_CHUNKS_PER_THREAD * threads));
    }

    /** Weight bytes per tile of {@link #matmul}: well inside a core's L2 cache. */
    static final int TILE_BYTES = 64 << 10;

    private static long checkShape(GgmlType type, ByteBuffer weights, int rows, int cols) {
        Kernels.checkRow(type, cols);
        if (rows < 0) {
            throw new IllegalArgumentException("negative row count " + rows);
        }
        long rowBytes = type.bytesFor(cols);
        if (rowBytes * rows > weights.capacity()) {
            throw new IllegalArgumentException(rows + " rows of " + cols + " " + type + " need " + rowBytes * rows
                    + " bytes, the buffer has " + weights.capacity());
        }
        return rowBytes;
    }
}
