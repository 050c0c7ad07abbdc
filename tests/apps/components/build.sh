#!/usr/bin/env bash
# Builds the wasi:http component test apps into tests/apps/out/components/NAME.wasm:
#   NAME.wat       component WAT, turned into a binary with `jco parse` (@bytecodealliance/jco)
#   NAME/app.js    a Spin JS SDK v3 app, componentized with `j2w` (@spinframework/build-tools); a NAME/package.json
#                  adds target worlds (its config.witDependencies) for that app
# Idempotent: a target is rebuilt only when its source (or this script, or package.json) is newer, and
# `npm ci` runs only when package.json or package-lock.json changed since the last install.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../out/components"
mkdir -p "$out"

if ! command -v npm >/dev/null 2>&1; then
    echo "components/build.sh: 'npm' not found. Install Node.js 20 or later (apt-get install -y nodejs npm)." >&2
    exit 1
fi

stale() {
    local target="$1"; shift
    [[ -f "$target" ]] || return 0
    local source
    for source in "$@" "${BASH_SOURCE[0]}" "$here/package.json"; do
        [[ "$source" -nt "$target" ]] && return 0
    done
    return 1
}

# npm install is cached: node_modules/.installed records the state of package.json and the lock file.
stamp="$here/node_modules/.installed"
if [[ ! -f "$stamp" || "$here/package.json" -nt "$stamp" || ( -f "$here/package-lock.json" && "$here/package-lock.json" -nt "$stamp" ) ]]; then
    echo "components/build.sh: installing the component toolchains (npm)"
    if [[ -f "$here/package-lock.json" ]]; then
        (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
    else
        (cd "$here" && npm install --no-audit --no-fund --loglevel=error)
    fi
    touch "$stamp"
fi

for wat in "$here"/*.wat; do
    [[ -e "$wat" ]] || continue
    name="$(basename "$wat" .wat)"
    target="$out/$name.wasm"
    if stale "$target" "$wat"; then
        (cd "$here" && npx --no-install jco parse "$wat" -o "$target.tmp" >/dev/null)
        mv -f "$target.tmp" "$target"
        echo "built $target"
    fi
done

for app in "$here"/*/app.js; do
    [[ -e "$app" ]] || continue
    name="$(basename "$(dirname "$app")")"
    target="$out/$name.wasm"
    # An app folder with its own package.json (extra WIT worlds, e.g. js-vars) runs j2w there; others run here.
    appdir="$(dirname "$app")"
    [[ -f "$appdir/package.json" ]] || appdir="$here"
    if stale "$target" "$app" "$appdir/package.json" $(find "$appdir/wit" -name '*.wit' 2>/dev/null); then
        # j2w writes helper files beside its input, so it works on a copy outside the source tree; it reads the
        # target world from the dependencies in this folder's package.json, so it runs here.
        work="$out/.build/$name"
        rm -rf "$work" && mkdir -p "$work"
        cp "$app" "$work/app.js"
        (cd "$appdir" && npx --no-install j2w -i "$work/app.js" -o "$target.tmp" | grep -v '^$' || true)
        if [[ ! -s "$target.tmp" ]]; then
            echo "components/build.sh: j2w did not produce $name.wasm" >&2
            exit 1
        fi
        mv -f "$target.tmp" "$target"
        echo "built $target"
    fi
done
