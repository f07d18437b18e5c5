#!/usr/bin/env bash
# Rebuilds handler.wasm: the SQLite amalgamation from the better-sqlite3
# package on the npm registry, compiled for WASI with Debian's clang and
# wasi-libc (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32).
# About 40 s on 2 cores. The built module is committed; tests do not need clang.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="${BETTER_SQLITE3_VERSION:-12.11.1}"
(cd "$work" && npm pack "better-sqlite3@${version}" --silent >/dev/null && tar xzf better-sqlite3-*.tgz package/deps/sqlite3)
src="$work/package/deps/sqlite3"
clang --target=wasm32-wasi -O2 -mexec-model=reactor \
  -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_OMIT_SHARED_CACHE \
  -DSQLITE_OMIT_RANDOMNESS -DSQLITE_OMIT_DEPRECATED -DSQLITE_DEFAULT_MEMSTATUS=0 \
  -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS \
  -I"$src" "$here/handler.c" "$src/sqlite3.c" \
  -lwasi-emulated-mman -lwasi-emulated-signal -lwasi-emulated-process-clocks \
  -Wl,--strip-debug -o "$here/handler.wasm"
echo "built $here/handler.wasm ($(stat -c %s "$here/handler.wasm") bytes, SQLite from better-sqlite3@${version})"
