#!/usr/bin/env bash
# Builds the Wasm test apps into tests/apps/out/NAME.wasm.
# Idempotent: a target is rebuilt only when its source (or this script) is newer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/out"
CLANG="${CLANG:-clang-14}"
WAT2WASM="${WAT2WASM:-wat2wasm}"

need_tool() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "build.sh: '$1' not found. Install it with: apt-get install -y $2" >&2
        exit 1
    fi
}

mkdir -p "$out"

# Rebuild when the target is missing or older than its source or this script.
stale() {
    local target="$1" source="$2"
    [[ ! -f "$target" || "$source" -nt "$target" || "${BASH_SOURCE[0]}" -nt "$target" ]]
}

# Writes to a temporary file first so an interrupted build never leaves a truncated module behind.
build_c() {
    local name="$1" source="$here/$1.c" target="$out/$1.wasm"
    if stale "$target" "$source"; then
        need_tool "$CLANG" "clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32"
        "$CLANG" --target=wasm32-wasi -O2 -Wl,--strip-all -o "$target.tmp" "$source"
        mv -f "$target.tmp" "$target"
        echo "built $target"
    fi
}

build_wat() {
    local name="$1" source="$here/$1.wat" target="$out/$1.wasm"
    if stale "$target" "$source"; then
        need_tool "$WAT2WASM" "wabt"
        "$WAT2WASM" -o "$target.tmp" "$source"
        mv -f "$target.tmp" "$target"
        echo "built $target"
    fi
}

copy_bin() {
    local name="$1" source="$here/$1.bin" target="$out/$1.wasm"
    if stale "$target" "$source"; then
        cp "$source" "$target.tmp"
        mv -f "$target.tmp" "$target"
        echo "built $target"
    fi
}

# Generated sources: the compile bomb is written by its generator (too repetitive to keep as a file).
if stale "$out/compilebomb.wasm" "$here/compilebomb.sh"; then
    need_tool "$WAT2WASM" "wabt"
    bash "$here/compilebomb.sh" >"$out/compilebomb.wat.tmp"
    "$WAT2WASM" -o "$out/compilebomb.wasm.tmp" "$out/compilebomb.wat.tmp"
    rm -f "$out/compilebomb.wat.tmp"
    mv -f "$out/compilebomb.wasm.tmp" "$out/compilebomb.wasm"
    echo "built $out/compilebomb.wasm"
fi

for c in "$here"/*.c; do build_c "$(basename "$c" .c)"; done
for w in "$here"/*.wat; do build_wat "$(basename "$w" .wat)"; done
for b in "$here"/*.bin; do copy_bin "$(basename "$b" .bin)"; done

# wasi:http components (jco / j2w from npm); see components/build.sh.
bash "$here/components/build.sh"
