#!/usr/bin/env bash
# Type-checks, lints and runs the tests.
#
#   scripts/test.sh [unit|integration|faults|cluster|all]   (default: all)
#
# unit runs test/unit/**/*.test.ts; integration starts the real servers (scripts/servers.sh
# start) and runs test/integration/**/*.test.ts; faults runs test/faults/**/*.test.ts one file
# at a time, because those tests kill processes and stop servers that other tests would need;
# all does every suite. A suite with no files is skipped.
# cluster runs the integration tests again against the harness's cluster (servers.sh start
# redis-cluster) with REDIS_CLUSTER_NODES set (default: its six nodes), all but those that use
# no Redis of the tests'; it skips the type check, lint and cycle check, which the other modes
# run.
# Exits non-zero when the type check, the lint, an import cycle or any test fails. The failing
# tests' reports are also kept in .data/logs/test-failures.txt (printed last by CI, after the
# server logs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

mode=${1:-all}
case $mode in
  unit | integration | faults | cluster | all) ;;
  *)
    echo "usage: scripts/test.sh [unit|integration|faults|cluster|all]" >&2
    exit 2
    ;;
esac

if [[ ! -d node_modules ]]; then
  echo "== node_modules is missing; running npm ci"
  npm ci --no-audit --no-fund
fi

if [[ $mode != cluster ]]; then
  echo "== type check (tsc --noEmit)"
  npx tsc --noEmit -p tsconfig.json

  echo "== lint (biome check)"
  npx biome check .

  # A cycle between modules makes one of them see the other half-initialised, depending on which
  # is imported first; madge finds them in runtime, services and bench (package.json "circular").
  echo "== import cycles (madge --circular)"
  npm run --silent circular
fi

if [[ $mode == cluster ]]; then
  # The harness's cluster unless the caller named another; every client of the tests follows it.
  export REDIS_CLUSTER_NODES="${REDIS_CLUSTER_NODES:-127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005}"
  echo "== servers (the Redis Cluster only)"
  bash scripts/servers.sh start redis-cluster
elif [[ $mode != unit ]]; then
  echo "== servers"
  bash scripts/servers.sh start
fi

# Node 20's --test takes file names, not globs: expand them here.
shopt -s globstar nullglob
unit_files=(test/unit/**/*.test.ts)
integration_files=(test/integration/**/*.test.ts)
fault_files=(test/faults/**/*.test.ts)
# On a Redis Cluster every integration file runs again, the same tests as on one server, except
# those that use no Redis of the tests' (PostgreSQL, MongoDB or Kafka alone, or a server or
# cluster of their own): they would only repeat themselves. A test that is about one server (a
# proxy in front of it, its own REDIS_URL failures) skips itself there, naming why.
no_test_redis_files=(
  test/integration/kafka-transactions.test.ts
  test/integration/mongo-id-lookup.test.ts
  test/integration/redis-tls.test.ts
  test/integration/redis-tls-cluster.test.ts
  test/integration/sink-mongo.test.ts
  test/integration/sink-mongo-positions.test.ts
  test/integration/sink-postgres-positions.test.ts
  test/integration/sink-postgres-transcoder.test.ts
  test/integration/smoke-kafka.test.ts
  test/integration/smoke-mongo.test.ts
  test/integration/smoke-postgres.test.ts
)
cluster_files=()
for file in "${integration_files[@]}"; do
  [[ " ${no_test_redis_files[*]} " == *" $file "* ]] || cluster_files+=("$file")
done

summary_dir=$(mktemp -d)
trap 'rm -rf "$summary_dir"' EXIT
failures_file=.data/logs/test-failures.txt
mkdir -p "$(dirname "$failures_file")"
: >"$failures_file"

failed=0
passed_total=0
failed_total=0

# Runs one suite and adds its counts (from the spec reporter's closing lines) to the totals.
run_suite() {
  local name=$1 concurrency=$2 status=0 out="$summary_dir/$1.out" count
  shift 2
  if [[ $# -eq 0 ]]; then
    echo "== $name tests: no files, skipped"
    return 0
  fi
  echo "== $name tests ($# files)"
  node --import tsx --test --test-concurrency="$concurrency" --test-timeout=300000 --test-reporter=spec \
    "$@" 2>&1 | tee "$out" || status=$?
  while read -r count; do
    passed_total=$((passed_total + count))
  done < <(sed -n 's/^ℹ pass \([0-9][0-9]*\)$/\1/p' "$out")
  # A cancelled test (a failed hook, a timed-out parent) did not pass either.
  while read -r count; do
    failed_total=$((failed_total + count))
  done < <(sed -n 's/^ℹ \(fail\|cancelled\) \([0-9][0-9]*\)$/\2/p' "$out")
  if [[ $status -ne 0 ]]; then
    echo "== $name tests failed (exit $status)"
    failed=1
    # The spec reporter closes with every failure's report: keep it where CI can show it last.
    {
      echo "== $name tests: failures"
      sed -n '/^✖ failing tests:/,$p' "$out"
    } >>"$failures_file"
  fi
}

if [[ $mode == unit || $mode == all ]]; then run_suite unit 4 "${unit_files[@]}"; fi
if [[ $mode == integration || $mode == all ]]; then run_suite integration 4 "${integration_files[@]}"; fi
if [[ $mode == faults || $mode == all ]]; then run_suite faults 1 "${fault_files[@]}"; fi
if [[ $mode == cluster ]]; then
  echo "== left out on the cluster (no Redis of the tests'): ${no_test_redis_files[*]#test/integration/}"
  run_suite cluster 4 "${cluster_files[@]}"
fi

echo "tests: $passed_total passed, $failed_total failed"
exit "$failed"
