#!/usr/bin/env bash
# One script for a machine without Docker (Debian 12, run as root):
#   ./deploy/platform.sh up       install what is missing, start PostgreSQL, the registry, the control plane and a router
#   ./deploy/platform.sh down     stop everything `up` started
#   ./deploy/platform.sh status   show what runs
#   ./deploy/platform.sh test     install what is missing and run every test
# State (databases, registry blobs, logs, keys, module cache) lives in .platform/ at the repository root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${PLATFORM_STATE_DIR:-$ROOT/.platform}"
PG_PORT="${PLATFORM_PG_PORT:-55432}"
REGISTRY_PORT="${PLATFORM_REGISTRY_PORT:-5000}"
CP_URL="${PLATFORM_CONTROLPLANE_URL:-http://127.0.0.1:5080}"
ROUTER_URL="${PLATFORM_ROUTER_URL:-http://127.0.0.1:8080}"
MGMT_URL="${PLATFORM_ROUTER_MANAGEMENT_URL:-http://127.0.0.1:9090}"
CONFIGURATION="${PLATFORM_CONFIGURATION:-Release}"

# The Wasm toolchain is part of `up` so the README's loop (bash tests/apps/build.sh, then platform deploy) works right after it.
WASM_TOOLCHAIN=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt)
RUN_PACKAGES=(postgresql docker-registry curl ca-certificates "${WASM_TOOLCHAIN[@]}")
# Where `up` puts the `platform` command (a small wrapper around the published CLI).
CLI_LINK="${PLATFORM_CLI_LINK:-/usr/local/bin/platform}"
TEST_PACKAGES=(postgresql docker-registry clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt skopeo apache2-utils kubectl chromium openssl curl ca-certificates)

# shellcheck source=lib.sh
source "$ROOT/deploy/lib.sh"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
as_postgres() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

wait_http() { # url seconds what
  local url=$1 secs=$2 what=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$what did not become ready at $url within ${secs}s; see $STATE/logs"
}

is_running() { [[ -f "$STATE/pids/$1.pid" ]] && kill -0 "$(cat "$STATE/pids/$1.pid")" 2>/dev/null; }

start_bg() { # name command...   (STDOUT_LOG=file overrides where its output goes)
  local name=$1; shift
  if is_running "$name"; then log "$name already runs (pid $(cat "$STATE/pids/$name.pid"))"; return 0; fi
  setsid nohup "$@" >>"${STDOUT_LOG:-$STATE/logs/$name.log}" 2>&1 < /dev/null &
  echo $! >"$STATE/pids/$name.pid"
}

secret() { # file [value]: read or create a 256-bit secret, kept only in the state folder (mode 600)
  local file=$1 value=${2:-}
  if [[ -n "$value" ]]; then printf '%s' "$value" >"$file"
  elif [[ ! -s "$file" ]]; then printf 'wpk_%s' "$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n' | head -c 43)" >"$file"; fi
  chmod 600 "$file"; cat "$file"
}

start_postgres() {
  local bin; bin=$(pg_bin); [[ -n "$bin" ]] || die "PostgreSQL binaries not found"
  mkdir -p "$STATE/postgres"
  [[ $EUID -eq 0 ]] && chown postgres:postgres "$STATE/postgres"
  if [[ ! -f "$STATE/postgres/PG_VERSION" ]]; then
    log "Creating a PostgreSQL cluster in $STATE/postgres"
    as_postgres "$bin/initdb" -D "$STATE/postgres" -A trust -U postgres -E UTF8 --locale=C >>"$STATE/logs/postgres.log" 2>&1
  fi
  if as_postgres "$bin/pg_ctl" -D "$STATE/postgres" status >/dev/null 2>&1; then
    log "PostgreSQL already runs on 127.0.0.1:$PG_PORT"
  else
    log "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    touch "$STATE/logs/postgres.log"; [[ $EUID -eq 0 ]] && chown postgres "$STATE/logs/postgres.log"
    as_postgres "$bin/pg_ctl" -D "$STATE/postgres" -l "$STATE/logs/postgres.log" -w -t 30 \
      -o "-p $PG_PORT -k $STATE/postgres -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='platform'" | grep -q 1 \
    || as_postgres "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres platform
}

start_registry() {
  mkdir -p "$STATE/registry"
  cat >"$STATE/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
YAML
  log "Starting the OCI registry on 127.0.0.1:$REGISTRY_PORT"
  start_bg registry /usr/bin/docker-registry serve "$STATE/registry.yml"
  wait_http "http://127.0.0.1:$REGISTRY_PORT/v2/" 30 "the registry"
}

publish() {
  log "Building the platform ($CONFIGURATION)"
  dotnet publish "$ROOT/src/Platform.ControlPlane" -c "$CONFIGURATION" -o "$STATE/bin/controlplane" --nologo -v q >"$STATE/logs/build.log" 2>&1 \
    || { tail -n 30 "$STATE/logs/build.log"; die "build of the control plane failed"; }
  dotnet publish "$ROOT/src/Platform.Router" -c "$CONFIGURATION" -o "$STATE/bin/router" --nologo -v q >>"$STATE/logs/build.log" 2>&1 \
    || { tail -n 30 "$STATE/logs/build.log"; die "build of the router failed"; }
  dotnet publish "$ROOT/migrations/Platform.Migrations" -c "$CONFIGURATION" -o "$STATE/bin/migrations" --nologo -v q >>"$STATE/logs/build.log" 2>&1 \
    || { tail -n 30 "$STATE/logs/build.log"; die "build of the migration runner failed"; }
  dotnet publish "$ROOT/src/Platform.Cli" -c "$CONFIGURATION" -o "$STATE/bin/cli" --nologo -v q >>"$STATE/logs/build.log" 2>&1 \
    || { tail -n 30 "$STATE/logs/build.log"; die "build of the platform CLI failed"; }
}

# Puts `platform` on PATH: a wrapper in /usr/local/bin (root) or ~/.local/bin, pointing at the published CLI.
install_cli() {
  local link="$CLI_LINK"
  if ! { [[ -w "$(dirname "$link")" ]] || [[ $EUID -eq 0 ]]; }; then
    link="$HOME/.local/bin/platform"
  fi
  mkdir -p "$(dirname "$link")"
  printf '#!/bin/sh\n# Installed by deploy/platform.sh up: the platform CLI published in %s\nexec dotnet "%s" "$@"\n' \
    "$STATE/bin/cli" "$STATE/bin/cli/platform.dll" >"$link.tmp"
  chmod 755 "$link.tmp"
  mv -f "$link.tmp" "$link"
  command -v platform >/dev/null || log "Add $(dirname "$link") to PATH to run 'platform'"
  CLI_INSTALLED="$link"
}

# Logs the CLI in to this stack, unless it is logged in to another platform.
login_cli() { # url key
  local config="${XDG_CONFIG_HOME:-$HOME/.config}/platform/config.json"
  if [[ ! -f "$config" ]] || grep -q "\"url\": \"$1\"" "$config"; then
    # The key goes in by environment, not argv, so other users' `ps` never shows it.
    PLATFORM_URL="$1" PLATFORM_KEY="$2" "$CLI_INSTALLED" login >/dev/null \
      || log "Could not log the CLI in; run: platform login --url $1"
  else
    log "The CLI stays logged in to another platform ($config); run 'platform login --url $1' to switch"
  fi
}

cmd_up() {
  ensure_packages "${RUN_PACKAGES[@]}"
  mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/cache" "$STATE/router-state"
  local admin_key router_token signing_key db
  admin_key=$(secret "$STATE/admin-key" "${PLATFORM_ADMIN_KEY:-}")
  router_token=$(secret "$STATE/router-token" "${PLATFORM_ROUTER_TOKEN:-}")
  # Signs precompiled artifacts (control plane) and is checked before native code is loaded (routers).
  signing_key=$(secret "$STATE/artifact-signing-key" "${PLATFORM_ARTIFACT_SIGNING_KEY:-}")
  db="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=platform"

  publish
  start_postgres
  start_registry

  log "Applying database migrations"
  Platform__Database__ConnectionString="$db" dotnet "$STATE/bin/migrations/Platform.Migrations.dll" >>"$STATE/logs/migrations.log" 2>&1 \
    || { tail -n 20 "$STATE/logs/migrations.log"; die "migrations failed"; }

  log "Starting the control plane on $CP_URL"
  # Exported in the subshell rather than passed as an argument, so `ps` never shows the key.
  ( export PLATFORM_ARTIFACT_SIGNING_KEY="$signing_key"; cd "$STATE/bin/controlplane" && start_bg controlplane env \
    Platform__Database__ConnectionString="$db" Platform__Registry__Url="http://127.0.0.1:$REGISTRY_PORT" \
    Platform__ControlPlane__Url="$CP_URL" PLATFORM_ADMIN_KEY="$admin_key" PLATFORM_ROUTER_TOKEN="$router_token" \
    Platform__Apps__PublicUrlTemplate="http://{app}.apps.localhost:${ROUTER_URL##*:}/" \
    dotnet Platform.ControlPlane.dll )
  wait_http "$CP_URL/readyz" 60 "the control plane"

  log "Starting a router on $ROUTER_URL (management $MGMT_URL)"
  # The router writes its own log, rotated by size (router.log, router.log.1 ...); only what the runtime itself
  # prints (a crash) goes to router.stdout.log.
  ( export PLATFORM_ARTIFACT_SIGNING_KEY="$signing_key"; cd "$STATE/bin/router" && STDOUT_LOG="$STATE/logs/router.stdout.log" start_bg router env \
    Platform__Router__LogFile="$STATE/logs/router.log" \
    Platform__Router__Url="$ROUTER_URL" Platform__Router__ManagementUrl="$MGMT_URL" Platform__Router__ControlPlaneUrl="$CP_URL" \
    Platform__Router__Token="$router_token" Platform__Registry__Url="http://127.0.0.1:$REGISTRY_PORT" \
    Platform__Router__CacheDirectory="$STATE/cache" Platform__Router__StateDirectory="$STATE/router-state" \
    dotnet Platform.Router.dll )
  wait_http "$MGMT_URL/readyz" 60 "the router"

  install_cli
  login_cli "$CP_URL" "$admin_key"

  cat <<TXT

The platform is running.
  Dashboard        $CP_URL/
  REST API         $CP_URL/api/v1
  OpenAPI          $CP_URL/openapi/v1.json   (reference page: $CP_URL/openapi/reference)
  Apps             http://{app}.apps.localhost:${ROUTER_URL##*:}/
  Router metrics   $MGMT_URL/metrics
  Registry         http://127.0.0.1:$REGISTRY_PORT
  PostgreSQL       127.0.0.1:$PG_PORT (database platform)
  Logs             $STATE/logs

  Admin key        $admin_key

  CLI              $CLI_INSTALLED (logged in to $CP_URL)

Try it:
  bash tests/apps/build.sh
  platform deploy tests/apps/out/hello.wasm
  curl 'http://hello.apps.localhost:${ROUTER_URL##*:}/hi?x=1'
  platform logs hello --follow
Stop it with: ./deploy/platform.sh down
TXT
}

cmd_down() {
  local name pid bin
  for name in router controlplane registry; do
    if is_running "$name"; then
      pid=$(cat "$STATE/pids/$name.pid")
      log "Stopping $name (pid $pid)"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/pids/$name.pid"
  done
  bin=$(pg_bin)
  if [[ -n "$bin" && -f "$STATE/postgres/PG_VERSION" ]] && as_postgres "$bin/pg_ctl" -D "$STATE/postgres" status >/dev/null 2>&1; then
    log "Stopping PostgreSQL"
    as_postgres "$bin/pg_ctl" -D "$STATE/postgres" -m fast -w stop >/dev/null
  fi
  log "Stopped. Data stays in $STATE (delete it to start afresh)."
}

cmd_status() {
  local name bin
  for name in controlplane router registry; do
    if is_running "$name"; then echo "$name: running (pid $(cat "$STATE/pids/$name.pid"))"; else echo "$name: stopped"; fi
  done
  bin=$(pg_bin)
  if [[ -n "$bin" && -f "$STATE/postgres/PG_VERSION" ]] && as_postgres "$bin/pg_ctl" -D "$STATE/postgres" status >/dev/null 2>&1; then
    echo "postgres: running (127.0.0.1:$PG_PORT)"; else echo "postgres: stopped"; fi
  curl -fsS -o /dev/null "$CP_URL/readyz" 2>/dev/null && echo "control plane ready at $CP_URL" || true
  curl -fsS -o /dev/null "$MGMT_URL/readyz" 2>/dev/null && echo "router ready at $ROUTER_URL" || true
}

cmd_test() {
  ensure_packages "${TEST_PACKAGES[@]}"
  log "Building the Wasm test apps"
  bash "$ROOT/tests/apps/build.sh"
  log "Building the solution"
  dotnet build "$ROOT/Platform.sln" -c "$CONFIGURATION" --nologo -v q -clp:ErrorsOnly
  local results="$ROOT/TestResults" status=0
  rm -rf "$results"
  log "Unit tests"
  dotnet test "$ROOT/Platform.sln" -c "$CONFIGURATION" --no-build --nologo --filter "Category=Unit" \
    --logger "trx;LogFilePrefix=unit" --results-directory "$results" || status=1
  log "Integration tests (real PostgreSQL, registry, Wasmtime, browser)"
  # One test assembly at a time: each brings up its own PostgreSQL, registry and processes on two cores.
  dotnet test "$ROOT/Platform.sln" -c "$CONFIGURATION" --no-build --nologo --filter "Category!=Unit" -m:1 \
    --logger "trx;LogFilePrefix=integration" --results-directory "$results" || status=1
  summarize "$results"
  return $status
}

summarize() { # totals over every TRX file, as one plain line
  python3 - "$1" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    if c is None: continue
    passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  test) cmd_test ;;
  *) echo "usage: $0 up|down|status|test" >&2; exit 2 ;;
esac
