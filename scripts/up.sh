#!/usr/bin/env bash
# The quick start's main job: installs what is missing, starts the servers, then runs the capture
# service and the sinks in the foreground until Ctrl-C (which stops the services, not the servers;
# `bash scripts/servers.sh stop` stops those). Ctrl-C exits 0 once the services stopped; a service
# that ends by itself ends this script with 1 and the end of its log.
#
# Environment: the servers' URLs (REDIS_URL, POSTGRES_URL, MONGO_URL, KAFKA_BROKERS), CAPTURE_PORT
# (8080), CAPTURE_TOKEN, CDC_CONFIG, UP_SINKS (default "postgres mongo"), and CDC_BRIDGE=1 to run
# the Kafka bridge as well (its BRIDGE_NAME and KAFKA_* variables as documented in README).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

if [[ ! -d node_modules ]]; then
  echo "== installing node modules"
  npm ci --no-audit --no-fund
fi
bash scripts/servers.sh start

mkdir -p .data/logs
pids=()
names=()
stopping=0
stop_services() {
  trap - EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
# package.json runs this with `exec`: an `sh -c` left between npm and this script would die of the
# terminal's SIGINT itself, and npm would exit 130 whatever this script says.
# Ctrl-C ends the wait below; the services get TERM from stop_services (a background job of a
# script ignores SIGINT) and stop after their batch in flight.
trap 'stopping=1' INT TERM
trap stop_services EXIT

start_service() {
  local name=$1
  node --import tsx "services/$name/src/main.ts" >>".data/logs/$name.log" 2>&1 &
  pids+=("$!")
  names+=("$name")
  echo "== $name started (log: .data/logs/$name.log)"
}

start_service capture
for sink in ${UP_SINKS:-postgres mongo}; do
  if [[ -f "services/sink-$sink/src/main.ts" ]]; then start_service "sink-$sink"; fi
done
if [[ ${CDC_BRIDGE:-0} == 1 ]]; then start_service bridge-kafka; fi

host=${CAPTURE_HOST:-127.0.0.1}
port=${CAPTURE_PORT:-8080}
# Capture waits for Redis itself (STARTUP_ATTEMPTS); the banner waits for capture, or says why not.
ready=0
for _ in $(seq 1 150); do
  if curl -fsS "http://$host:$port/healthz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then break; fi
  sleep 0.2
done
if [[ $ready != 1 ]]; then
  echo "== capture did not start; the end of .data/logs/capture.log:" >&2
  tail -n 5 .data/logs/capture.log >&2 || true
  exit 1
fi
cat <<MSG

Capture is listening on http://$host:$port
  curl -X PUT http://$host:$port/entities/todo/t1 -H 'content-type: application/json' \\
       -d '{"name": "some todo", "description": "some description"}'
  curl http://$host:$port/entities/todo/t1
Lag page: http://$host:$port/dashboard    Metrics: http://$host:$port/metrics    Stop: Ctrl-C
MSG

# Waits for Ctrl-C (or TERM), or for a service to end by itself: the first is a normal stop.
status=0
exited_pid=
wait -n -p exited_pid "${pids[@]}" || status=$?
if [[ $stopping == 1 ]]; then
  stop_services
  echo "== stopped the services (the servers keep running: npm run servers -- stop)"
  exit 0
fi
name=unknown
for i in "${!pids[@]}"; do
  if [[ ${pids[$i]} == "$exited_pid" ]]; then name=${names[$i]}; fi
done
echo "== $name exited (status $status); the end of .data/logs/$name.log:" >&2
tail -n 5 ".data/logs/$name.log" >&2 || true
exit 1
