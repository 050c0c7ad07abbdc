#!/usr/bin/env bash
# The benchmark of issue 6, in one command (Debian 12, as root, after the README's set-up):
#   ./deploy/bench/run.sh
# Starts its own stack (./deploy/platform.sh up on other ports, with state in deploy/bench/results/stack), deploys
# hello, and measures on loopback: wrk at 1/16/64 connections against the router, a bare Kestrel endpoint and
# lighttpd mod_cgi running hello compiled natively; cold starts of fresh routers with and without the precompiled
# artifact; deploy-to-live; the RSS of a router holding 1,000 apps. Prints a table, writes results.json and
# results.md under deploy/bench/results/<time>/ (and latest.*), and stops everything it started.
# Knobs (environment): BENCH_DURATION (s per wrk run, 8), BENCH_WARMUP (2), BENCH_CONNECTIONS (1,16,64),
# BENCH_COLD_REPEATS (3), BENCH_DEPLOYS (7), BENCH_APPS (1000), BENCH_ONLY (throughput,coldstart,deploy,apps,component,scale).
# The component section (issue 15) serves the j2w-built Spin JS app from the router and, in the same run, from
# `npx jco serve --isolate-requests instance` as the peer; alone: BENCH_ONLY=component ./deploy/bench/run.sh
# Scale section (issue 16): BENCH_SCALE_APPS (1000,100000: apps seeded straight into the stack's own PostgreSQL),
# BENCH_SCALE_ROUTERS (10), BENCH_SCALE_CHANGES (20). Run it alone with BENCH_ONLY=scale.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/deploy/bench"
RESULTS="$BENCH/results"
OUT="${BENCH_OUT:-$RESULTS/$(date -u +%Y%m%dT%H%M%SZ)}"

# Ports of the benchmark's own stack, away from the defaults so a running ./deploy/platform.sh up is not disturbed.
export PLATFORM_STATE_DIR="${BENCH_STATE_DIR:-$RESULTS/stack}"
export PLATFORM_PG_PORT="${BENCH_PG_PORT:-55442}"
export PLATFORM_REGISTRY_PORT="${BENCH_REGISTRY_PORT:-15000}"
export PLATFORM_CONTROLPLANE_URL="http://127.0.0.1:${BENCH_CONTROLPLANE_PORT:-15080}"
export PLATFORM_ROUTER_URL="http://127.0.0.1:${BENCH_ROUTER_PORT:-18080}"
export PLATFORM_ROUTER_MANAGEMENT_URL="http://127.0.0.1:${BENCH_ROUTER_MANAGEMENT_PORT:-19090}"
export BENCH_PORT_BASE="${BENCH_PORT_BASE:-18200}"
# The benchmark's stack is deleted on the next run: it must not install the user's `platform` command or log it in.
export PLATFORM_INSTALL_CLI=0

# shellcheck source=../lib.sh
source "$ROOT/deploy/lib.sh"

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

ensure_packages wrk lighttpd clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt iproute2 curl
for port in "$PLATFORM_PG_PORT" "$PLATFORM_REGISTRY_PORT" "${PLATFORM_CONTROLPLANE_URL##*:}" "${PLATFORM_ROUTER_URL##*:}" \
            "${PLATFORM_ROUTER_MANAGEMENT_URL##*:}" $(seq "$BENCH_PORT_BASE" $((BENCH_PORT_BASE + 40))); do
  port_free "$port" || die "port $port on 127.0.0.1 is in use; stop what listens there or move the benchmark (BENCH_*_PORT, BENCH_PORT_BASE)"
done

mkdir -p "$OUT" "$RESULTS/bin"
log "Building the Wasm test apps and the native CGI program"
bash "$ROOT/tests/apps/build.sh" >/dev/null
CC_NATIVE="${CC:-$(command -v cc || command -v clang-14)}"
mkdir -p "$OUT/cgi"
# The same C source as the Wasm app, compiled for the host: what a CGI server would run.
"$CC_NATIVE" -O2 -o "$OUT/cgi/hello.cgi" "$ROOT/tests/apps/hello.c"

log "Building the bare Kestrel baseline and the benchmark driver"
dotnet publish "$BENCH/KestrelBaseline" -c Release -o "$RESULTS/bin/baseline" --nologo -v q >"$OUT/build.log" 2>&1 \
  || { tail -n 30 "$OUT/build.log"; die "build of the Kestrel baseline failed"; }
dotnet publish "$BENCH/Platform.Bench" -c Release -o "$RESULTS/bin/driver" --nologo -v q >>"$OUT/build.log" 2>&1 \
  || { tail -n 30 "$OUT/build.log"; die "build of the benchmark driver failed"; }

cleanup() {
  local status=$?
  log "Stopping the benchmark stack"
  "$ROOT/deploy/platform.sh" down >>"$OUT/platform.log" 2>&1 || true
  exit $status
}
# A stack left over from an interrupted run is stopped and wiped: every run starts from empty caches.
"$ROOT/deploy/platform.sh" down >/dev/null 2>&1 || true
rm -rf "$PLATFORM_STATE_DIR"
trap cleanup EXIT INT TERM

log "Starting the stack (build, PostgreSQL, registry, control plane, router); log in $OUT/platform.log"
"$ROOT/deploy/platform.sh" up >"$OUT/platform.log" 2>&1 || { tail -n 30 "$OUT/platform.log"; die "./deploy/platform.sh up failed"; }

log "Measuring (results in $OUT)"
BENCH_CONTROLPLANE_URL="$PLATFORM_CONTROLPLANE_URL" \
BENCH_ADMIN_KEY="$(cat "$PLATFORM_STATE_DIR/admin-key")" \
BENCH_ROUTER_URL="$PLATFORM_ROUTER_URL" \
BENCH_ROUTER_MANAGEMENT_URL="$PLATFORM_ROUTER_MANAGEMENT_URL" \
BENCH_REGISTRY_URL="http://127.0.0.1:$PLATFORM_REGISTRY_PORT" \
BENCH_ROUTER_TOKEN="$(cat "$PLATFORM_STATE_DIR/router-token")" \
BENCH_REGISTRY_USERNAME=router \
BENCH_REGISTRY_PASSWORD="$(cat "$PLATFORM_STATE_DIR/registry-router-password")" \
BENCH_ARTIFACT_SIGNING_KEY="$(cat "$PLATFORM_STATE_DIR/artifact-signing-key")" \
BENCH_ROUTER_DIR="$PLATFORM_STATE_DIR/bin/router" \
BENCH_BASELINE_DLL="$RESULTS/bin/baseline/KestrelBaseline.dll" \
BENCH_CGI_PROGRAM="$OUT/cgi/hello.cgi" \
BENCH_APPS_DIR="$ROOT/tests/apps/out" \
BENCH_COMPONENTS_DIR="$ROOT/tests/apps/components" \
BENCH_OUT="$OUT" \
BENCH_COMMIT="$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
BENCH_DATABASE="Host=127.0.0.1;Port=$PLATFORM_PG_PORT;Username=platform;Password=$(cat "$PLATFORM_STATE_DIR/postgres-password");Database=platform" \
BENCH_CONTROLPLANE_PID="$(cat "$PLATFORM_STATE_DIR/pids/controlplane.pid")" \
  dotnet "$RESULTS/bin/driver/Platform.Bench.dll"

cp "$OUT/results.json" "$RESULTS/latest.json"
cp "$OUT/results.md" "$RESULTS/latest.md"
log "Done: $OUT/results.md (also $RESULTS/latest.md)"
