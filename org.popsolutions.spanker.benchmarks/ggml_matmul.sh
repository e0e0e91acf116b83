#!/usr/bin/env bash
# ggml's own matrix-matrix product time (test-backend-ops perf, MUL_MAT with f32 activations, which ggml quantizes
# inside the op as it does in a prompt) for the shapes given, on this machine: one JSON line per shape and thread count,
# {"type", "m", "n", "k", "threads", "us"}. The anchor prefill.sh sets beside the prompt's tokens/s.
#
# ggml is built as llama.cpp builds it: native ISA and GGML_LLAMAFILE=ON (llama.cpp's default; ggml alone leaves it off
# and then multiplies quantized matrices one row-by-column dot at a time, 10x slower here). Not covered: llama.cpp's
# CPU_REPACK buffers (Q4_0/Q4_K weights regrouped at load for its own gemm), which test-backend-ops does not allocate.
# test-backend-ops' perf set has fixed shapes (none of TinyLlama's), so this builds its own copy of the snapshot in
# ../shared/bench/ggml (same build as that build.sh, cached under ${GGML_MATMUL_DIR:-/tmp/ggml-matmul-bench}) with one
# more patch: GGML_TEST_MUL_MAT="type:m:n:k ..." makes the perf set those products (type_b f32, no batch dims).
# Nothing of ggml goes into the project.
#
# usage: org.popsolutions.spanker.benchmarks/ggml_matmul.sh --threads "1 2" type:m:n:k ...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads="1 2"
if [ "${1:-}" = --threads ]; then threads=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [--threads \"1 2\"] type:m:n:k ..." >&2; exit 2; }
src=${GGML_SRC:-$root/../shared/bench/ggml/ggml-src.tar.gz}
dir=${GGML_MATMUL_DIR:-/tmp/ggml-matmul-bench}
bin=$dir/build/test-backend-ops
if [ ! -x "$bin" ]; then
  [ -f "$src" ] || { echo "$0: no ggml snapshot at $src (set GGML_SRC)" >&2; exit 2; }
  echo "ggml_matmul: building test-backend-ops in $dir (about a minute on 2 quiet cores)" >&2
  rm -rf "$dir" && mkdir -p "$dir/src" && tar -xzf "$src" -C "$dir/src"
  cpp=$dir/src/tests/test-backend-ops.cpp
  sed -i 's|#   define N_THREADS std::thread::hardware_concurrency()|#   define N_THREADS (getenv("GGML_TEST_THREADS") ? (unsigned) atoi(getenv("GGML_TEST_THREADS")) : std::thread::hardware_concurrency())|' "$cpp"
  python3 - "$cpp" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
head = "static std::vector<std::unique_ptr<test_case>> make_test_cases_perf() {\n    std::vector<std::unique_ptr<test_case>> test_cases;\n"
patch = head + r'''
    if (const char * spec = getenv("GGML_TEST_MUL_MAT")) {
        std::istringstream items(spec);
        std::string item;
        while (items >> item) {
            char name[32];
            long long m, n, k;
            if (sscanf(item.c_str(), "%31[^:]:%lld:%lld:%lld", name, &m, &n, &k) != 4) {
                fprintf(stderr, "GGML_TEST_MUL_MAT: '%s' is not type:m:n:k\n", item.c_str());
                exit(2);
            }
            int found = -1;
            for (int t = 0; t < GGML_TYPE_COUNT; t++) {
                const char * tn = ggml_type_name((ggml_type) t);
                if (tn != nullptr && strcmp(tn, name) == 0) {
                    found = t;
                }
            }
            if (found < 0) {
                fprintf(stderr, "GGML_TEST_MUL_MAT: no type '%s'\n", name);
                exit(2);
            }
            test_cases.emplace_back(new test_mul_mat((ggml_type) found, GGML_TYPE_F32, m, n, k, {1, 1}, {1, 1}));
        }
        return test_cases;
    }
'''
if head not in text:
    sys.exit("ggml_matmul.sh: make_test_cases_perf not found in " + path)
open(path, "w").write(text.replace(head, patch, 1))
EOF
  mkdir -p "$dir/build" && cd "$dir/build"
  cmake "$dir/src" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_LLAMAFILE=ON -DGGML_BUILD_TESTS=OFF \
      -DGGML_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >cmake.log 2>&1
  make -j"$(nproc)" ggml ggml-base ggml-cpu >make.log 2>&1
  g++ -O2 -std=c++17 -I"$dir/src/include" -I"$dir/src/src" "$dir/src/tests/test-backend-ops.cpp" -o "$bin" \
      -Wl,--start-group $(find . -name 'libggml*.a') -Wl,--end-group -fopenmp -lpthread -ldl >link.log 2>&1
  cd - >/dev/null
fi
for t in $threads; do
  GGML_TEST_THREADS=$t GGML_TEST_MUL_MAT="$*" "$bin" perf -o MUL_MAT -b CPU 2>&1 | python3 -c '
import json, re, sys
threads = int(sys.argv[1])
seen = 0
for line in sys.stdin:
    m = re.search(r"MUL_MAT\(type_a=(\w+),type_b=f32,m=(\d+),n=(\d+),k=(\d+),.*?(\d+) runs - +([0-9.]+) us/run", line)
    if m:
        seen += 1
        print(json.dumps({"type": m.group(1), "m": int(m.group(2)), "n": int(m.group(3)), "k": int(m.group(4)),
                          "threads": threads, "us": float(m.group(6))}))
if seen == 0:
    sys.exit("ggml_matmul.sh: test-backend-ops printed no MUL_MAT time")' "$t"
done
