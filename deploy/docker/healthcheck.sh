#!/bin/bash
# Container health check for images without curl or wget (the ASP.NET runtime image has neither):
# one HTTP/1.0 GET over bash's /dev/tcp to 127.0.0.1; healthy only when the status line says 200.
# usage: healthcheck PORT PATH     e.g. healthcheck 9090 /readyz
set -u
port=${1-}
path=${2-}
if [[ ! $port =~ ^[0-9]{1,5}$ ]]; then
  echo "healthcheck: PORT must be a number, got '${port}' (usage: healthcheck PORT PATH)" >&2
  exit 2
fi
if [[ $path != /* ]]; then
  echo "healthcheck: PATH must start with '/', got '${path}' (usage: healthcheck PORT PATH)" >&2
  exit 2
fi
if ! exec 3<>"/dev/tcp/127.0.0.1/${port}"; then
  echo "healthcheck: nothing accepts connections on 127.0.0.1:${port}" >&2
  exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
if ! IFS= read -r -t 5 status <&3; then
  echo "healthcheck: no response from 127.0.0.1:${port}${path} within 5 s" >&2
  exit 1
fi
status=${status%$'\r'}
if [[ $status =~ ^HTTP/1\.[01]\ 200( |$) ]]; then
  exit 0
fi
echo "healthcheck: 127.0.0.1:${port}${path} answered '${status}'" >&2
exit 1
