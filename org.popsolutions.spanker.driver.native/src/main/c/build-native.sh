#!/usr/bin/env bash
# Builds the native parts of the driver bundle (called by the module's pom, phase generate-resources):
#   CLASSES/native/linux-ARCH/libspankerdriver.so   the JNI binding, packed into the bundle (Bundle-NativeCode)
#   TARGET/native/spanker-fuse-double              the FUSE driver double the tests mount (needs libfuse3-dev)
# usage: build-native.sh JAVA_HOME CLASSES_DIR TARGET_DIR ARCH
set -euo pipefail
java_home=$1 classes=$2 target=$3 arch=$4
here=$(cd "$(dirname "$0")" && pwd)
cflags=(-std=gnu11 -O2 -Wall -Wextra -Werror -ffp-contract=off -fno-strict-aliasing)

if [[ ! -f $java_home/include/jni.h ]]; then
    echo "build-native: $java_home/include/jni.h is missing: build with a JDK (not a JRE)" >&2
    exit 1
fi
mkdir -p "$classes/native/linux-$arch" "$target/native"
gcc "${cflags[@]}" -fPIC -shared -I"$java_home/include" -I"$java_home/include/linux" -I"$here" \
    "$here/spanker_jni.c" -o "$classes/native/linux-$arch/libspankerdriver.so"

if pkg-config --exists fuse3; then
    # shellcheck disable=SC2046
    gcc "${cflags[@]}" -I"$here" $(pkg-config --cflags fuse3) "$here/spanker_fuse_double.c" "$here/spanker_q4.c" \
        $(pkg-config --libs fuse3) -o "$target/native/spanker-fuse-double"
else
    rm -f "$target/native/spanker-fuse-double"
    echo "build-native: libfuse3 development files not found (apt-get install libfuse3-dev fuse3):" \
         "the FUSE driver double is not built and the tests that mount it will fail" >&2
fi
