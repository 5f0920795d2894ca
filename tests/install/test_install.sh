#!/usr/bin/env bash
# Installs the built tree into a temporary prefix, then builds and runs a consumer program twice: through the
# CMake package (find_package(accel)) and through pkg-config.
set -euo pipefail
build_dir=$1
src_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$src_dir" -B "$work/cmake-consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-consumer" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/cmake-consumer/consumer"
libdir=$(ls -d "$work"/prefix/lib* | head -n1)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 "$src_dir/consumer.c" -o "$work/pc-consumer" $(pkg-config --cflags --libs accel) -Wl,-rpath,"$libdir"
"$work/pc-consumer"
echo "1 passed, 0 failed"
