#!/bin/sh
# Rebuilds the WASI conformance corpus: test/fixtures/wasi/src/*.c -> test/fixtures/wasi/*.wasm.
# Needs Debian's clang, lld, wasi-libc and libclang-rt-dev-wasm32. The built
# modules are committed, so the tests never need clang.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/test/fixtures/wasi/src"
out="$here/test/fixtures/wasi"
CC=${CC:-clang}
for file in "$src"/*.c; do
  name=$(basename "$file" .c)
  model=""
  case "$name" in
    reactor) model="-mexec-model=reactor" ;;
  esac
  # --strip-all: no names section, so the committed bytes do not carry build paths.
  "$CC" --target=wasm32-wasi -O2 $model -Wl,--strip-all -o "$out/$name.wasm" "$file"
  echo "built $name.wasm ($(wc -c < "$out/$name.wasm") bytes)"
done
