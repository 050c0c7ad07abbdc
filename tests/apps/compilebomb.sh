#!/usr/bin/env bash
# Writes a compile bomb to stdout as WAT: valid, small (about 45 KB as Wasm), cheap to validate and expensive to
# compile: LOCALS i64 locals, all live across DEPTH nested loops, so Cranelift's SSA construction and register
# allocation see LOCALS x DEPTH block parameters. Usage: compilebomb.sh [LOCALS] [DEPTH]
set -euo pipefail
locals="${1:-5000}" depth="${2:-100}"
echo '(module'
echo '  (memory (export "memory") 1)'
echo '  (func $bomb (param $seed i64) (result i64)'
printf '    (local'
for ((i = 0; i < locals; i++)); do printf ' i64'; done
echo ')'
for ((d = 1; d <= depth; d++)); do echo "    (loop \$l$d"; done
for ((i = 1; i < locals; i++)); do
    echo "      (local.set $i (i64.add (local.get $i) (local.get $((i + 1)))))"
done
for ((d = depth; d >= 1; d--)); do echo "      (br_if \$l$d (i64.eqz (local.get $(( (d % (locals - 1)) + 1 ))))))"; done
echo '    (local.get 1))'
echo '  (func (export "_start") (drop (call $bomb (i64.const 1)))))'
