#!/usr/bin/env bash
# The quick start's main job: installs what is missing, starts the servers, then runs the capture
# service and the sinks in the foreground until Ctrl-C (which stops the services, not the servers;
# `bash scripts/servers.sh stop` stops those).
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
stop_services() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop_services EXIT INT TERM

start_service() {
  local name=$1
  node --import tsx "services/$name/src/main.ts" >>".data/logs/$name.log" 2>&1 &
  pids+=("$!")
  echo "== $name started (log: .data/logs/$name.log)"
}

start_service capture
for sink in ${UP_SINKS:-postgres mongo}; do
  if [[ -f "services/sink-$sink/src/main.ts" ]]; then start_service "sink-$sink"; fi
done
if [[ ${CDC_BRIDGE:-0} == 1 ]]; then start_service bridge-kafka; fi

port=${CAPTURE_PORT:-8080}
for _ in $(seq 1 50); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
cat <<MSG

Capture is listening on http://127.0.0.1:$port
  curl -X PUT http://127.0.0.1:$port/entities/todo/t1 -H 'content-type: application/json' \\
       -d '{"name": "some todo", "description": "some description"}'
  curl http://127.0.0.1:$port/entities/todo/t1
Metrics: http://127.0.0.1:$port/metrics    Stop: Ctrl-C
MSG
wait -n "${pids[@]}" || true
echo "== a service exited; see .data/logs" >&2
exit 1
