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
# The services run as their own users (postgres, docker-registry, platform-*), which must reach the state folder; a
# checkout in a private home (/root/...) is out of their reach, so then the default state lives under /var/lib/platform.
if [[ -z "${PLATFORM_STATE_DIR:-}" && $EUID -eq 0 ]] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$ROOT"; then
  STATE="/var/lib/platform/$(printf '%s' "$ROOT" | sha256sum | head -c 12)"
fi
PG_PORT="${PLATFORM_PG_PORT:-55432}"
REGISTRY_PORT="${PLATFORM_REGISTRY_PORT:-5000}"
CP_URL="${PLATFORM_CONTROLPLANE_URL:-http://127.0.0.1:5080}"
ROUTER_URL="${PLATFORM_ROUTER_URL:-http://127.0.0.1:8080}"
MGMT_URL="${PLATFORM_ROUTER_MANAGEMENT_URL:-http://127.0.0.1:9090}"
CONFIGURATION="${PLATFORM_CONFIGURATION:-Release}"

# The Wasm toolchain is part of `up` so the README's loop (bash tests/apps/build.sh, then platform deploy) works right after it.
WASM_TOOLCHAIN=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt)
RUN_PACKAGES=(postgresql docker-registry apache2-utils curl ca-certificates "${WASM_TOOLCHAIN[@]}")
# Where `up` puts the `platform` command (a small wrapper around the published CLI).
CLI_LINK="${PLATFORM_CLI_LINK:-/usr/local/bin/platform}"
TEST_PACKAGES=(postgresql docker-registry clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt skopeo apache2-utils kubectl chromium openssl curl ca-certificates)

# shellcheck source=lib.sh
source "$ROOT/deploy/lib.sh"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
as_postgres() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

wait_http() { # url seconds what [status that also means ready, e.g. 401 from an authenticated registry]
  local url=$1 secs=$2 what=$3 also=${4:-} i code
  for ((i = 0; i < secs * 10; i++)); do
    code=$(curl -sS -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)
    [[ $code == 2?? || ( -n $also && $code == "$also" ) ]] && return 0
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
  # umask first, so the file is never readable by others, not even for a moment.
  if [[ -n "$value" ]]; then (umask 077; printf '%s' "$value" >"$file")
  elif [[ ! -s "$file" ]]; then (umask 077; printf 'wpk_%s' "$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n' | head -c 43)" >"$file"); fi
  chmod 600 "$file"; cat "$file"
}

# Service accounts (root only): the router runs untrusted code, so neither it nor the control plane runs as root.
ROUTER_USER="${PLATFORM_ROUTER_USER:-platform-router}"
CP_USER="${PLATFORM_CONTROLPLANE_USER:-platform-cp}"
REGISTRY_USER=docker-registry   # created by Debian's docker-registry package

ensure_service_users() {
  [[ $EUID -eq 0 ]] || return 0
  local u
  for u in "$ROUTER_USER" "$CP_USER"; do
    id -u "$u" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
  done
}

# Runs a command as a service user when root (setpriv execs, so a pid file holds the service's own pid).
as_user() { # user command...
  local user=$1; shift
  if [[ $EUID -eq 0 ]]; then
    setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all env HOME=/nonexistent DOTNET_CLI_TELEMETRY_OPTOUT=1 "$@"
  else
    "$@"
  fi
}

start_bg_as() { # user name command...
  local user=$1 name=$2; shift 2
  umask 077   # what a service creates (state, cache, logs) is its user's alone; this runs in a subshell or once per start
  if [[ $EUID -eq 0 ]]; then
    start_bg "$name" setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all \
      env HOME=/nonexistent DOTNET_CLI_TELEMETRY_OPTOUT=1 "$@"
  else
    start_bg "$name" "$@"
  fi
}

# Directory only the given user can use (mode 700), e.g. the router's module cache and saved routing table.
private_dir() { # dir user
  mkdir -p "$1"
  [[ $EUID -eq 0 ]] && chown -R "$2:$2" "$1"
  chmod 700 "$1"
}

start_postgres() {
  local bin; bin=$(pg_bin); [[ -n "$bin" ]] || die "PostgreSQL binaries not found"
  mkdir -p "$STATE/postgres"
  [[ $EUID -eq 0 ]] && chown postgres:postgres "$STATE/postgres"
  chmod 700 "$STATE/postgres"
  if [[ ! -f "$STATE/postgres/PG_VERSION" ]]; then
    log "Creating a PostgreSQL cluster in $STATE/postgres"
    # initdb wants a superuser password once password auth is on; a random one nobody keeps (the superuser logs in by peer).
    local pwdir; pwdir=$(mktemp -d)   # mode 700; initdb needs its data folder empty, so not in there
    head -c 32 /dev/urandom | base64 >"$pwdir/pw"; [[ $EUID -eq 0 ]] && chown -R postgres "$pwdir"
    as_postgres "$bin/initdb" -D "$STATE/postgres" --auth-local=peer --auth-host=scram-sha-256 --pwfile="$pwdir/pw" \
      -U postgres -E UTF8 --locale=C >>"$STATE/logs/postgres.log" 2>&1 || { rm -rf "$pwdir"; die "initdb failed; see $STATE/logs/postgres.log"; }
    rm -rf "$pwdir"
  fi
  # No trust auth: the superuser only over the server's private socket (peer: the postgres OS user), the platform's
  # own role by password over TCP. Rewritten on every `up`, so a cluster an older `up` created with trust is locked too.
  cat >"$STATE/postgres/pg_hba.conf" <<HBA
# Written by deploy/platform.sh up.
local   all        postgres                 peer
host    platform   platform   127.0.0.1/32  scram-sha-256
HBA
  [[ $EUID -eq 0 ]] && chown postgres:postgres "$STATE/postgres/pg_hba.conf"
  chmod 600 "$STATE/postgres/pg_hba.conf"
  if as_postgres "$bin/pg_ctl" -D "$STATE/postgres" status >/dev/null 2>&1; then
    log "PostgreSQL already runs on 127.0.0.1:$PG_PORT"
    as_postgres "$bin/pg_ctl" -D "$STATE/postgres" reload >/dev/null
  else
    log "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    touch "$STATE/logs/postgres.log"; [[ $EUID -eq 0 ]] && chown postgres "$STATE/logs/postgres.log"
    as_postgres "$bin/pg_ctl" -D "$STATE/postgres" -l "$STATE/logs/postgres.log" -w -t 30 \
      -o "-p $PG_PORT -k $STATE/postgres -c listen_addresses=127.0.0.1 -c password_encryption=scram-sha-256" start >/dev/null
  fi
  local psql=(as_postgres "$bin/psql" -h "$STATE/postgres" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
  # The password goes in on stdin (never argv, which `ps` shows to every user).
  "${psql[@]}" -d postgres -v pw="$PG_PASSWORD" >/dev/null <<'SQL'
SELECT format('CREATE ROLE platform LOGIN PASSWORD %L', :'pw') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'platform') \gexec
SELECT format('ALTER ROLE platform LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE platform OWNER platform' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'platform') \gexec
ALTER DATABASE platform OWNER TO platform;
REVOKE ALL ON DATABASE platform FROM PUBLIC;
SQL
  # Tables an older `up` created as the superuser move to the platform role.
  "${psql[@]}" -d platform >/dev/null <<'SQL'
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND pg_get_userbyid(c.relowner) <> 'platform' LOOP
    EXECUTE format('ALTER TABLE public.%I OWNER TO platform', r.relname);
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> 'platform'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) LOOP
    EXECUTE format('ALTER SEQUENCE public.%I OWNER TO platform', r.relname);
  END LOOP;
END $$;
SQL
}

start_registry() {
  mkdir -p "$STATE/registry/storage"
  # bcrypt entries for the control plane (pushes) and the router (pulls); the file holds hashes only.
  # Passwords go in on stdin (-i), never argv.
  { htpasswd -niB controlplane <<<"$REGISTRY_CP_PASSWORD"; htpasswd -niB router <<<"$REGISTRY_ROUTER_PASSWORD"; } \
    | grep -v '^$' >"$STATE/registry/htpasswd"
  # Delete is off: the platform never deletes from the registry, so no credential can.
  cat >"$STATE/registry/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $STATE/registry/storage
  delete:
    enabled: false
auth:
  htpasswd:
    realm: platform
    path: $STATE/registry/htpasswd
http:
  addr: 127.0.0.1:$REGISTRY_PORT
YAML
  rm -f "$STATE/registry.yml"
  if [[ $EUID -eq 0 ]]; then
    # Blobs an older `up` kept at the top of $STATE/registry move under storage/.
    [[ -d "$STATE/registry/docker" ]] && mv "$STATE/registry/docker" "$STATE/registry/storage/"
    chown -R "$REGISTRY_USER:$REGISTRY_USER" "$STATE/registry"
  fi
  chmod 700 "$STATE/registry"; chmod 600 "$STATE/registry/htpasswd" "$STATE/registry/config.yml"
  log "Starting the OCI registry on 127.0.0.1:$REGISTRY_PORT (htpasswd auth, delete disabled)"
  start_bg_as "$REGISTRY_USER" registry /usr/bin/docker-registry serve "$STATE/registry/config.yml"
  wait_http "http://127.0.0.1:$REGISTRY_PORT/v2/" 30 "the registry" 401
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
    if PLATFORM_URL="$1" PLATFORM_KEY="$2" "$CLI_INSTALLED" login >/dev/null; then
      CLI_STATUS="$CLI_INSTALLED (logged in to $1)"
    else
      log "Could not log the CLI in; run: platform login --url $1"
      CLI_STATUS="$CLI_INSTALLED (not logged in: run platform login --url $1)"
    fi
  else
    log "The CLI stays logged in to another platform ($config); run 'platform login --url $1' to switch"
    CLI_STATUS="$CLI_INSTALLED (logged in to another platform; run platform login --url $1 to switch)"
  fi
}

cmd_up() {
  ensure_packages "${RUN_PACKAGES[@]}"
  mkdir -p "$STATE/logs" "$STATE/pids"
  chmod 755 "$STATE"
  [[ $STATE == /var/lib/platform/* ]] && { chmod 755 /var/lib/platform; log "State in $STATE ($ROOT is not reachable by the service users)"; }
  ensure_service_users
  # Only the router's user can read or change its module cache (native code) and saved routing table.
  private_dir "$STATE/cache" "$ROUTER_USER"
  private_dir "$STATE/router-state" "$ROUTER_USER"
  private_dir "$STATE/logs/router" "$ROUTER_USER"
  local admin_key router_token signing_key db
  admin_key=$(secret "$STATE/admin-key" "${PLATFORM_ADMIN_KEY:-}")
  router_token=$(secret "$STATE/router-token" "${PLATFORM_ROUTER_TOKEN:-}")
  # Signs precompiled artifacts (control plane) and is checked before native code is loaded (routers).
  signing_key=$(secret "$STATE/artifact-signing-key" "${PLATFORM_ARTIFACT_SIGNING_KEY:-}")
  PG_PASSWORD=$(secret "$STATE/postgres-password")
  REGISTRY_CP_PASSWORD=$(secret "$STATE/registry-controlplane-password")
  REGISTRY_ROUTER_PASSWORD=$(secret "$STATE/registry-router-password")
  # Secrets reach the services by environment (readable only by their user and root), never by argv.
  db="Host=127.0.0.1;Port=$PG_PORT;Username=platform;Password=$PG_PASSWORD;Database=platform"

  publish
  start_postgres
  start_registry

  log "Applying database migrations"
  Platform__Database__ConnectionString="$db" dotnet "$STATE/bin/migrations/Platform.Migrations.dll" >>"$STATE/logs/migrations.log" 2>&1 \
    || { tail -n 20 "$STATE/logs/migrations.log"; die "migrations failed"; }

  log "Starting the control plane on $CP_URL (as user $CP_USER)"
  # The signing key is exported in the subshell rather than passed as an argument, so `ps` never shows it.
  ( export PLATFORM_ARTIFACT_SIGNING_KEY="$signing_key"; cd "$STATE/bin/controlplane" && start_bg_as "$CP_USER" controlplane env \
    Platform__Database__ConnectionString="$db" Platform__Registry__Url="http://127.0.0.1:$REGISTRY_PORT" \
    Platform__Registry__Username=controlplane Platform__Registry__Password="$REGISTRY_CP_PASSWORD" \
    Platform__ControlPlane__Url="$CP_URL" PLATFORM_ADMIN_KEY="$admin_key" PLATFORM_ROUTER_TOKEN="$router_token" \
    Platform__Apps__PublicUrlTemplate="http://{app}.apps.localhost:${ROUTER_URL##*:}/" \
    dotnet Platform.ControlPlane.dll )
  wait_http "$CP_URL/readyz" 60 "the control plane"

  log "Starting a router on $ROUTER_URL (management $MGMT_URL, as user $ROUTER_USER)"
  # The router writes its own log, rotated by size (logs/router/router.log, router.log.1 ...); only what the runtime
  # itself prints (a crash) goes to router.stdout.log.
  ( export PLATFORM_ARTIFACT_SIGNING_KEY="$signing_key"; cd "$STATE/bin/router" && STDOUT_LOG="$STATE/logs/router.stdout.log" start_bg_as "$ROUTER_USER" router env \
    Platform__Router__LogFile="$STATE/logs/router/router.log" \
    Platform__Router__Url="$ROUTER_URL" Platform__Router__ManagementUrl="$MGMT_URL" Platform__Router__ControlPlaneUrl="$CP_URL" \
    Platform__Router__Token="$router_token" Platform__Registry__Url="http://127.0.0.1:$REGISTRY_PORT" \
    Platform__Registry__Username=router Platform__Registry__Password="$REGISTRY_ROUTER_PASSWORD" \
    Platform__Router__CacheDirectory="$STATE/cache" Platform__Router__StateDirectory="$STATE/router-state" \
    dotnet Platform.Router.dll )
  wait_http "$MGMT_URL/readyz" 60 "the router"

  # PLATFORM_INSTALL_CLI=0 (the benchmark's own stack) leaves the user's `platform` command and its login alone.
  if [[ "${PLATFORM_INSTALL_CLI:-1}" != 0 ]]; then
    install_cli
    login_cli "$CP_URL" "$admin_key"
  else
    CLI_STATUS="not installed (PLATFORM_INSTALL_CLI=0); the published CLI is $STATE/bin/cli/platform.dll"
  fi

  cat <<TXT

The platform is running.
  Dashboard        $CP_URL/
  REST API         $CP_URL/api/v1
  OpenAPI          $CP_URL/openapi/v1.json   (reference page: $CP_URL/openapi/reference)
  Apps             http://{app}.apps.localhost:${ROUTER_URL##*:}/
  Router metrics   $MGMT_URL/metrics
  Registry         http://127.0.0.1:$REGISTRY_PORT (htpasswd users controlplane and router, passwords in $STATE/registry-*-password)
  PostgreSQL       127.0.0.1:$PG_PORT (database and role platform, password in $STATE/postgres-password)
  Logs             $STATE/logs

  Admin key        $admin_key

  CLI              $CLI_STATUS

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
