#!/usr/bin/env bash
# The real servers the integration tests run against, installed and run from this checkout
# without Docker: Redis 7 (one server, and a Redis Cluster of six), PostgreSQL 15, Apache Kafka
# 3.9 and 4.x (single-node KRaft each, so Kafka tests run on both) and a MongoDB-wire server
# (mongo-java-server on an H2 file).
#
#   scripts/servers.sh start  [redis] [redis-cluster] [postgres] [kafka] [kafka4] [mongo]   (default: all)
#   scripts/servers.sh stop   [names...]
#   scripts/servers.sh status [names...]   exit status non-zero when any is down
#   scripts/servers.sh logs   [-f] [names...]
#
# Every command is idempotent. Everything written goes under .data/ (data, logs in
# .data/logs/<name>.log, pid files in .data/run/) and .cache/ (jars resolved by Maven, the
# compiled Mongo launcher); installation happens on first use only, so a later start is quick.
#
# Addresses come from the same variables the tests read (test/helpers/env.ts):
#   REDIS_URL      default redis://127.0.0.1:6379
#   POSTGRES_URL   default postgres://cdc:cdc@127.0.0.1:5432/cdc
#   MONGO_URL      default mongodb://127.0.0.1:27017/cdc
#   KAFKA_BROKERS  default 127.0.0.1:9092 (the controller listens on KAFKA_CONTROLLER_PORT,
#                  default broker port + 1)
#   KAFKA4_BROKERS default 127.0.0.1:9192, the Kafka 4.x broker (its controller listens on
#                  KAFKA4_CONTROLLER_PORT, default broker port + 1)
#   REDIS_CLUSTER_NODES  default 127.0.0.1:7000,…,127.0.0.1:7005: the harness runs six nodes (three
#                  masters with a replica each) on consecutive ports from the first one listed.
#                  Unlike the others it is not exported to the probes: set, it switches every
#                  client to cluster mode.
# A server whose host is not loopback (127.0.0.1, localhost, ::1) belongs to the user: start and
# stop leave it alone, status still checks it.
# Other knobs: REDIS_APPENDFSYNC (always|everysec|no, default everysec), REDIS_CLUSTER_NODE_TIMEOUT
# (ms a cluster node may be unreachable before its replica takes over, default 2000), HARNESS_READY_TIMEOUT
# (seconds, default 90), HARNESS_STOP_TIMEOUT (seconds before SIGKILL, default 30).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

readonly ALL_SERVERS=(redis redis-cluster postgres kafka kafka4 mongo)
readonly DATA_DIR="$ROOT/.data"
readonly CACHE_DIR="$ROOT/.cache"
readonly LOG_DIR="$DATA_DIR/logs"
readonly RUN_DIR="$DATA_DIR/run"
readonly HARNESS_DIR="$ROOT/scripts/harness"

export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export POSTGRES_URL="${POSTGRES_URL:-postgres://cdc:cdc@127.0.0.1:5432/cdc}"
export MONGO_URL="${MONGO_URL:-mongodb://127.0.0.1:27017/cdc}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export KAFKA4_BROKERS="${KAFKA4_BROKERS:-127.0.0.1:9192}"
readonly REDIS_APPENDFSYNC="${REDIS_APPENDFSYNC:-everysec}"
# Not exported: the probes would take it as "talk to the cluster" (see the header).
readonly CLUSTER_NODES_SPEC="${REDIS_CLUSTER_NODES:-127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005}"
readonly CLUSTER_NODE_TIMEOUT="${REDIS_CLUSTER_NODE_TIMEOUT:-2000}"
readonly READY_TIMEOUT="${HARNESS_READY_TIMEOUT:-90}"
readonly STOP_TIMEOUT="${HARNESS_STOP_TIMEOUT:-30}"

# ---------------------------------------------------------------------------------------------
# small helpers

say() { printf 'servers: %s\n' "$*"; }
warn() { printf 'servers: %s\n' "$*" >&2; }
die() {
  warn "$*"
  exit 1
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

log_file() { printf '%s/%s.log' "$LOG_DIR" "$1"; }
pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# Prints the last lines of a server's log to stderr, for failure messages.
log_tail() {
  local file
  file=$(log_file "$1")
  if [[ -s $file ]]; then
    warn "last ${2:-20} lines of ${file#"$ROOT"/}:"
    tail -n "${2:-20}" "$file" | sed 's/^/  | /' >&2
  else
    warn "${file#"$ROOT"/} is empty or missing"
  fi
}

# Decodes %XX escapes, as found in the user and password of a URL.
url_decode() { printf '%b' "${1//%/\\x}"; }

# Splits the first host of a URL (or of a host:port list) into HOST and PORT.
# Handles user:password@, a path or query after the authority, and bracketed IPv6 hosts.
parse_host_port() {
  local rest=$1 default_port=$2
  rest=${rest#*://}
  rest=${rest%%/*}
  rest=${rest%%\?*}
  rest=${rest##*@}
  rest=${rest%%,*}
  if [[ $rest == \[* ]]; then
    HOST=${rest%%]*}
    HOST=${HOST#[}
    PORT=${rest#*]}
    PORT=${PORT#:}
  else
    HOST=${rest%%:*}
    PORT=${rest#"$HOST"}
    PORT=${PORT#:}
  fi
  [[ -n $PORT ]] || PORT=$default_port
  is_uint "$PORT" || die "cannot read a port from '$1'"
}

is_loopback() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }

# The address a harness-run server listens on for a loopback host from the URL.
bind_address() { if [[ $1 == ::1 ]]; then printf '::1'; else printf '127.0.0.1'; fi; }

# host:port, with brackets around an IPv6 host.
join_host_port() { if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi; }

redact() { sed -E 's#(://[^:/@]*:)[^@/]*@#\1***@#' <<<"$1"; }

# True when something accepts TCP connections on host:port.
# shellcheck disable=SC2016 # $1 and $2 expand in the inner shell, on purpose
port_in_use() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

# True when PID is alive and its command line contains PATTERN: a pid file left by a crash may
# name a pid that now belongs to an unrelated process, which must never be signalled.
process_matches() {
  local pid=$1 pattern=$2 cmdline
  is_uint "$pid" || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$pattern"* ]]
}

# Starts a long-running server in the background, detached from this shell's session so that
# a Ctrl-C or the end of the calling job does not take it down, and records its pid.
# nohup and setsid both exec (setsid only forks when the caller leads a process group, which a
# background job of a non-interactive shell never does), so $! is the server's own pid.
spawn() {
  local name=$1
  shift
  # 9>&-: the server must not inherit (and so keep holding) the start/stop lock.
  nohup setsid "$@" >>"$(log_file "$name")" 2>&1 </dev/null 9>&- &
  printf '%s\n' "$!" >"$(pid_file "$name")"
}

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# apt-get's progress goes to .data/logs/install.log and is shown only when it fails.
APT_UPDATED=0
apt_install() {
  local log="$LOG_DIR/install.log"
  mkdir -p "$LOG_DIR"
  say "installing $* with apt-get (first use only; output in ${log#"$ROOT"/})"
  if [[ $APT_UPDATED -eq 0 ]]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1 || {
      tail -n 20 "$log" >&2
      die "apt-get update failed"
    }
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
    >>"$log" 2>&1 || {
    tail -n 20 "$log" >&2
    die "apt-get install $* failed"
  }
}

ensure_java() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if [[ ${#missing[@]} -gt 0 ]]; then apt_install "${missing[@]}"; fi
}

ensure_node_modules() {
  if [[ ! -d $ROOT/node_modules ]]; then
    say "node_modules is missing; running npm ci"
    npm ci --no-audit --no-fund
  fi
}

# One readiness probe through the Node clients the tests use (scripts/harness/ready.ts).
node_probe() { node --import tsx "$HARNESS_DIR/ready.ts" "$1"; }

# Content hash of the inputs of a cached build step; a changed pom or source rebuilds it, an
# unchanged one never does, whatever the file times after a fresh clone.
inputs_hash() { cat "$@" | sha256sum | cut -c1-64; }

# Copies the runtime classpath of a harness pom into .cache/<name>/libs, once per pom content.
resolve_jars() {
  local name=$1 pom="$HARNESS_DIR/$1/pom.xml"
  local libs="$CACHE_DIR/$name/libs" stamp="$CACHE_DIR/$name/libs.sha256" hash
  hash=$(inputs_hash "$pom")
  if [[ -f $stamp && $(<"$stamp") == "$hash" ]]; then return 0; fi
  ensure_java
  say "$name: resolving jars with Maven into ${libs#"$ROOT"/} (first use only)"
  rm -rf "$libs"
  mkdir -p "$libs"
  # outputDirectory must be absolute: Maven resolves a relative one against the pom's folder.
  # Its output goes to the install log, shown only when it fails.
  mkdir -p "$LOG_DIR"
  mvn -q -B -Dstyle.color=never -f "$pom" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >>"$LOG_DIR/install.log" 2>&1 || {
    tail -n 30 "$LOG_DIR/install.log" >&2
    die "$name: resolving jars with Maven failed (see ${LOG_DIR#"$ROOT"/}/install.log)"
  }
  printf '%s\n' "$hash" >"$stamp"
}

# ---------------------------------------------------------------------------------------------
# configuration read from the URLs

parse_host_port "$REDIS_URL" 6379
readonly REDIS_HOST=$HOST REDIS_PORT=$PORT

parse_host_port "$CLUSTER_NODES_SPEC" 7000
readonly CLUSTER_HOST=$HOST CLUSTER_PORT=$PORT

parse_host_port "$POSTGRES_URL" 5432
readonly PG_HOST=$HOST PG_PORT=$PORT
pg_authority=${POSTGRES_URL#*://}
pg_authority=${pg_authority%%/*}
pg_userinfo=""
if [[ $pg_authority == *@* ]]; then pg_userinfo=${pg_authority%@*}; fi
pg_user_raw=${pg_userinfo%%:*}
pg_password_raw=""
if [[ $pg_userinfo == *:* ]]; then pg_password_raw=${pg_userinfo#*:}; fi
pg_path=${POSTGRES_URL#*://}
if [[ $pg_path == */* ]]; then pg_path=${pg_path#*/}; else pg_path=""; fi
pg_path=${pg_path%%\?*}
PG_USER=$(url_decode "${pg_user_raw:-cdc}")
PG_PASSWORD=$(url_decode "$pg_password_raw")
PG_DB=$(url_decode "${pg_path:-$PG_USER}")
readonly PG_USER PG_PASSWORD PG_DB
unset pg_authority pg_userinfo pg_user_raw pg_password_raw pg_path

parse_host_port "$MONGO_URL" 27017
readonly MONGO_HOST=$HOST MONGO_PORT=$PORT

parse_host_port "$KAFKA_BROKERS" 9092
readonly KAFKA_HOST=$HOST KAFKA_PORT=$PORT
readonly KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"

parse_host_port "$KAFKA4_BROKERS" 9192
readonly KAFKA4_HOST=$HOST KAFKA4_PORT=$PORT
readonly KAFKA4_CONTROLLER_PORT="${KAFKA4_CONTROLLER_PORT:-$((KAFKA4_PORT + 1))}"

server_host() {
  case $1 in
    redis) printf '%s' "$REDIS_HOST" ;;
    redis-cluster) printf '%s' "$CLUSTER_HOST" ;;
    postgres) printf '%s' "$PG_HOST" ;;
    kafka) printf '%s' "$KAFKA_HOST" ;;
    kafka4) printf '%s' "$KAFKA4_HOST" ;;
    mongo) printf '%s' "$MONGO_HOST" ;;
  esac
}

server_port() {
  case $1 in
    redis) printf '%s' "$REDIS_PORT" ;;
    redis-cluster) printf '%s' "$CLUSTER_PORT" ;;
    postgres) printf '%s' "$PG_PORT" ;;
    kafka) printf '%s' "$KAFKA_PORT" ;;
    kafka4) printf '%s' "$KAFKA4_PORT" ;;
    mongo) printf '%s' "$MONGO_PORT" ;;
  esac
}

server_url() {
  case $1 in
    redis) redact "$REDIS_URL" ;;
    redis-cluster) cluster_node_list ;;
    postgres) redact "$POSTGRES_URL" ;;
    kafka) printf '%s\n' "$KAFKA_BROKERS" ;;
    kafka4) printf '%s\n' "$KAFKA4_BROKERS" ;;
    mongo) redact "$MONGO_URL" ;;
  esac
}

is_managed() { is_loopback "$(server_host "$1")"; }

# ---------------------------------------------------------------------------------------------
# Redis

redis_running_pid() {
  local pid
  pid=$(cat "$(pid_file redis)" 2>/dev/null) || return 1
  process_matches "$pid" redis-server && printf '%s' "$pid"
}

redis_install() {
  if ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server; fi
  # The TLS tests make a throwaway CA and server certificate with it.
  if ! command -v openssl >/dev/null 2>&1; then apt_install openssl; fi
}

redis_launch() {
  case $REDIS_APPENDFSYNC in
    always | everysec | no) ;;
    *) die "REDIS_APPENDFSYNC must be always, everysec or no (got '$REDIS_APPENDFSYNC')" ;;
  esac
  local dir="$DATA_DIR/redis"
  mkdir -p "$dir"
  # Regenerated on every start so a changed port or fsync policy takes effect.
  # protected-mode stays on: it only refuses non-loopback clients, and we bind loopback only.
  # RDB snapshots are off: the AOF is the durable copy and forking for both only slows tests.
  cat >"$dir/redis.conf" <<EOF
# Written by scripts/servers.sh on each start; edits are lost.
bind $(bind_address "$REDIS_HOST")
port $REDIS_PORT
protected-mode yes
daemonize no
logfile ""
dir "$dir"
appendonly yes
appendfilename "appendonly.aof"
appendfsync $REDIS_APPENDFSYNC
save ""
EOF
  spawn redis redis-server "$dir/redis.conf"
}

redis_probe() {
  if command -v redis-cli >/dev/null 2>&1; then
    local reply
    reply=$(timeout 5 redis-cli -u "$REDIS_URL" --no-auth-warning ping 2>&1) || {
      printf '%s\n' "$reply"
      return 1
    }
    [[ $reply == PONG ]] || {
      printf '%s\n' "$reply"
      return 1
    }
  else
    node_probe redis
  fi
}

# ---------------------------------------------------------------------------------------------
# Redis Cluster: six nodes (three masters with a replica each) of the same redis-server, on
# consecutive ports from the first of REDIS_CLUSTER_NODES, for the tests of cluster mode. Each
# node has its own folder (.data/redis-cluster/<port>: config, AOF, nodes.conf), log
# (.data/logs/redis-cluster-<port>.log) and pid file; the cluster's creation is logged in
# .data/logs/redis-cluster.log. A node remembers the cluster in its nodes.conf, so a restart
# rejoins it and only a first start (every node empty) creates it.

readonly CLUSTER_NODE_COUNT=6

cluster_ports() { seq "$CLUSTER_PORT" $((CLUSTER_PORT + CLUSTER_NODE_COUNT - 1)); }

# The nodes a probe checks: the harness's six when it runs them, else the ones listed.
cluster_probe_nodes() {
  local port
  if is_managed redis-cluster; then
    for port in $(cluster_ports); do join_host_port "$(bind_address "$CLUSTER_HOST")" "$port" && echo; done
  else
    tr ',' '\n' <<<"$CLUSTER_NODES_SPEC" | sed '/^ *$/d'
  fi
}

cluster_node_list() { cluster_probe_nodes | paste -sd, -; }

cluster_node_pid() {
  local pid
  pid=$(cat "$(pid_file "redis-cluster-$1")" 2>/dev/null) || return 1
  # Redis puts its address in its process title, which tells the nodes and the single server apart.
  process_matches "$pid" redis-server && process_matches "$pid" ":$1" && printf '%s' "$pid"
}

# All six pids, or failure when any node is down (start then launches the missing ones).
redis-cluster_running_pid() {
  local port pid pids=()
  for port in $(cluster_ports); do
    pid=$(cluster_node_pid "$port") || return 1
    pids+=("$pid")
  done
  printf '%s' "${pids[*]}"
}

redis-cluster_install() { redis_install; }

# The ports of the nodes not running (each also binds its cluster bus on port + 10000).
cluster_free_ports_needed() {
  local port
  for port in $(cluster_ports); do
    cluster_node_pid "$port" >/dev/null || printf '%s %s ' "$port" $((port + 10000))
  done
}

# redis-cli against one node: cluster_cli <host:port> <command...>
cluster_cli() {
  local node=$1
  shift
  timeout 5 redis-cli -h "${node%:*}" -p "${node##*:}" --no-auth-warning "$@"
}

redis-cluster_launch() {
  local port dir
  is_uint "$CLUSTER_NODE_TIMEOUT" || die "REDIS_CLUSTER_NODE_TIMEOUT must be a whole number of milliseconds"
  for port in $(cluster_ports); do
    cluster_node_pid "$port" >/dev/null && continue
    dir="$DATA_DIR/redis-cluster/$port"
    mkdir -p "$dir"
    # As for the single server, regenerated on each start; nodes.conf is Redis's own and stays.
    cat >"$dir/redis.conf" <<CONF
# Written by scripts/servers.sh on each start; edits are lost.
bind $(bind_address "$CLUSTER_HOST")
port $port
protected-mode yes
daemonize no
logfile ""
dir "$dir"
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout $CLUSTER_NODE_TIMEOUT
appendonly yes
appendfilename "appendonly.aof"
appendfsync $REDIS_APPENDFSYNC
save ""
CONF
    spawn "redis-cluster-$port" redis-server "$dir/redis.conf"
  done
  cluster_create
}

# Creates the cluster when every node is new; a cluster the nodes already form is left as it is.
cluster_create() {
  local node nodes=() fresh=0 formed=0 deadline=$((SECONDS + READY_TIMEOUT)) info known
  mapfile -t nodes < <(cluster_probe_nodes)
  for node in "${nodes[@]}"; do
    until [[ $(cluster_cli "$node" ping 2>/dev/null) == PONG ]]; do
      ((SECONDS < deadline)) || {
        log_tail "redis-cluster-${node##*:}"
        die "redis-cluster: node $node did not answer PING within ${READY_TIMEOUT}s"
      }
      sleep 0.2
    done
    info=$(cluster_cli "$node" cluster info) || die "redis-cluster: CLUSTER INFO failed on $node: $info"
    known=$(sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p' <<<"$info")
    if [[ $known == 1 ]]; then fresh=$((fresh + 1)); else formed=$((formed + 1)); fi
  done
  if ((formed == ${#nodes[@]})); then return 0; fi
  if ((fresh != ${#nodes[@]})); then
    die "redis-cluster: $formed nodes belong to a cluster and $fresh are new; stop it and delete .data/redis-cluster to create it again"
  fi
  say "redis-cluster: creating the cluster (3 masters with a replica each; output in ${LOG_DIR#"$ROOT"/}/redis-cluster.log)"
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
    >>"$(log_file redis-cluster)" 2>&1 || {
    log_tail redis-cluster
    die "redis-cluster: redis-cli --cluster create failed"
  }
}

# Ready when every node answers, sees the cluster as ok with all 16384 slots served, and (for
# the harness's cluster) knows all six nodes, none of them failing, three of them replicas.
redis-cluster_probe() {
  local node info nodes_table
  for node in $(cluster_probe_nodes); do
    info=$(cluster_cli "$node" cluster info 2>&1) || {
      printf '%s: %s\n' "$node" "$info"
      return 1
    }
    if [[ $info != *cluster_state:ok* || $info != *cluster_slots_ok:16384* ]]; then
      printf '%s: %s\n' "$node" "$(grep -E '^cluster_(state|slots_ok)' <<<"$info" | tr -d '\r' | paste -sd' ' -)"
      return 1
    fi
  done
  if is_managed redis-cluster; then
    nodes_table=$(cluster_cli "$(cluster_probe_nodes | head -n 1)" cluster nodes) || return 1
    if [[ $(grep -c ' connected' <<<"$nodes_table") -ne $CLUSTER_NODE_COUNT ]] ||
      grep -q 'fail' <<<"$nodes_table" ||
      [[ $(grep -c 'slave' <<<"$nodes_table") -ne $((CLUSTER_NODE_COUNT / 2)) ]]; then
      printf 'the cluster is still forming:\n%s\n' "$nodes_table"
      return 1
    fi
  fi
}

# Every node gets SIGTERM first, then all are awaited: stopped one by one, a replica would fail
# over for a master stopped before it.
redis_cluster_stop() {
  local port pid file pids=() ports=() waited=0 i
  for port in $(cluster_ports); do
    file=$(pid_file "redis-cluster-$port")
    if pid=$(cluster_node_pid "$port"); then
      pids+=("$pid")
      ports+=("$port")
    elif [[ -f $file ]]; then
      rm -f "$file"
    fi
  done
  if [[ ${#pids[@]} -eq 0 ]]; then
    say "redis-cluster: not running"
    return 0
  fi
  say "redis-cluster: stopping (pids ${pids[*]})"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for i in "${!pids[@]}"; do
    while kill -0 "${pids[$i]}" 2>/dev/null; do
      if ((waited >= STOP_TIMEOUT * 10)); then
        warn "redis-cluster: node ${ports[$i]} still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
    file=$(pid_file "redis-cluster-${ports[$i]}")
    if [[ $(cat "$file" 2>/dev/null) == "${pids[$i]}" ]]; then rm -f "$file"; fi
  done
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
#
# PostgreSQL refuses to run as root, so when this script runs as root the cluster belongs to the
# `postgres` OS user. That user must be able to reach its data directory: the cluster lives in
# .data/postgres when every folder above it is traversable by others (the usual 755 checkout),
# and otherwise - a checkout under a private home such as /root - in the postgres user's own
# home, at <home>/cdc-harness/<hash of this checkout's path>, with .data/postgres a symlink to
# it. That keeps one cluster per checkout, never changes the permissions of folders we do not
# own, and still shows the data under .data. Logs are written by this shell (the server inherits
# the file descriptor), so .data/logs need not be reachable by postgres.

PG_BIN=""
find_pg_bin() {
  if [[ -n ${PG_BINDIR:-} ]]; then
    PG_BIN=$PG_BINDIR
  elif [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
    PG_BIN=/usr/lib/postgresql/15/bin
  else
    PG_BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
      sort -V | tail -n 1 || true)
  fi
  [[ -n $PG_BIN && -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]]
}

# The OS user the server runs as and the superuser initdb creates (peer auth maps one to the other).
if [[ $EUID -eq 0 ]]; then PG_OS_USER=postgres; else PG_OS_USER=$(id -un); fi
readonly PG_OS_USER

as_pg() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

PG_ROOT="$DATA_DIR/postgres"
pg_paths() {
  if [[ -L $DATA_DIR/postgres ]]; then PG_ROOT=$(readlink -f "$DATA_DIR/postgres"); fi
  PGDATA_DIR="$PG_ROOT/data"
  # A Unix socket path is limited to about 107 bytes; past that fall back to /tmp, where a
  # socket only collides with another server on the same port, which could not start anyway.
  PG_SOCKET_DIR="$PG_ROOT/run"
  if [[ $((${#PG_SOCKET_DIR} + 20)) -gt 100 ]]; then PG_SOCKET_DIR=/tmp; fi
}
pg_paths

postgres_running_pid() {
  local pid
  pid=$(head -n 1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null) || return 1
  process_matches "$pid" postgres && printf '%s' "$pid"
}

postgres_install() {
  if ! find_pg_bin; then
    apt_install postgresql
    find_pg_bin || die "postgres: no initdb under /usr/lib/postgresql/*/bin after installing"
    # Debian's package creates and may start a system cluster on 5432; the harness runs its own.
    if command -v pg_lsclusters >/dev/null 2>&1; then
      local version cluster port status
      while read -r version cluster port status _; do
        if [[ $port == "$PG_PORT" && $status == online* ]]; then
          say "postgres: stopping the system cluster $version/$cluster that the package started on port $port"
          pg_ctlcluster "$version" "$cluster" stop || true
        fi
      done < <(pg_lsclusters --no-header 2>/dev/null || true)
    fi
  fi
}

# Chooses and prepares the cluster's folder the first time (see the comment above).
pg_prepare_root() {
  if [[ -e $DATA_DIR/postgres ]]; then
    pg_paths
    return 0
  fi
  mkdir -p "$DATA_DIR/postgres"
  if [[ $EUID -ne 0 ]]; then
    pg_paths
    return 0
  fi
  chmod a+x "$DATA_DIR"
  chown postgres: "$DATA_DIR/postgres"
  chmod 700 "$DATA_DIR/postgres"
  if ! runuser -u postgres -- test -w "$DATA_DIR/postgres"; then
    rmdir "$DATA_DIR/postgres"
    local home
    home=$(getent passwd postgres | cut -d: -f6)
    [[ -n $home ]] || die "postgres: the postgres OS user has no home folder"
    local target
    target="$home/cdc-harness/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    mkdir -p "$target"
    chown postgres: "$home/cdc-harness" "$target"
    chmod 700 "$target"
    ln -s "$target" "$DATA_DIR/postgres"
    say "postgres: ${ROOT} is not reachable by the postgres user; the cluster lives in $target (linked from .data/postgres)"
  fi
  pg_paths
}

postgres_launch() {
  pg_prepare_root
  local log
  log=$(log_file postgres)
  if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
    # A folder without PG_VERSION is what a failed initdb leaves; initdb needs it empty.
    rm -rf "$PGDATA_DIR"
    say "postgres: creating a cluster in ${PGDATA_DIR}"
    as_pg mkdir -p "$PGDATA_DIR"
    as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$PG_OS_USER" -E UTF8 --no-locale \
      --auth-local=peer --auth-host=scram-sha-256 >>"$log" 2>&1 ||
      {
        log_tail postgres
        die "postgres: initdb failed"
      }
    printf "\ninclude_if_exists = 'harness.conf'\n" | as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
  fi
  as_pg mkdir -p "$PG_SOCKET_DIR"
  # Rewritten on each start so a changed URL takes effect. fsync stays on: crash tests rely on
  # committed rows surviving a kill.
  as_pg tee "$PGDATA_DIR/harness.conf" >/dev/null <<EOF
# Written by scripts/servers.sh on each start; edits are lost.
listen_addresses = '$(bind_address "$PG_HOST")'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
fsync = on
password_encryption = 'scram-sha-256'
EOF
  # 9>&-: the postmaster must not inherit (and so keep holding) the start/stop lock.
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -w -t "$READY_TIMEOUT" start >>"$log" 2>&1 9>&- || {
    log_tail postgres
    die "postgres: pg_ctl start failed; see ${log#"$ROOT"/}"
  }
  postgres_bootstrap
}

# Creates (or updates) the login role and database named in POSTGRES_URL, over the Unix socket
# as the superuser. The password travels in the environment, not on a command line.
postgres_bootstrap() {
  as_pg env HARNESS_PG_USER="$PG_USER" HARNESS_PG_PASSWORD="$PG_PASSWORD" HARNESS_PG_DB="$PG_DB" \
    "$PG_BIN/psql" -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_OS_USER" -d postgres \
    -v ON_ERROR_STOP=1 >>"$(log_file postgres)" 2>&1 <<'SQL' || die "postgres: creating the role and database failed; see .data/logs/postgres.log"
\getenv user HARNESS_PG_USER
\getenv password HARNESS_PG_PASSWORD
\getenv db HARNESS_PG_DB
SELECT format('CREATE ROLE %I LOGIN', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'user', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
}

postgres_probe() {
  if command -v psql >/dev/null 2>&1; then
    local out
    out=$(PGCONNECT_TIMEOUT=3 timeout 10 psql "$POSTGRES_URL" -X -A -t -q -c 'select 1' 2>&1) || {
      printf '%s\n' "$out"
      return 1
    }
    [[ $out == 1 ]] || {
      printf '%s\n' "$out"
      return 1
    }
  else
    node_probe postgres
  fi
}

postgres_stop() {
  local pid
  if ! pid=$(postgres_running_pid); then
    say "postgres: not running"
    return 0
  fi
  find_pg_bin || die "postgres: pg_ctl not found"
  say "postgres: stopping (pid $pid)"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t "$STOP_TIMEOUT" stop >>"$(log_file postgres)" 2>&1 ||
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >>"$(log_file postgres)" 2>&1 ||
    die "postgres: could not stop pid $pid"
}

# ---------------------------------------------------------------------------------------------
# Kafka (KRaft, broker and controller in one JVM)

kafka_running_pid() {
  local pid
  pid=$(cat "$(pid_file kafka)" 2>/dev/null) || return 1
  process_matches "$pid" kafka.Kafka && printf '%s' "$pid"
}

kafka_install() {
  ensure_java
  resolve_jars kafka
}

# The JVM flag that points a broker at its logging configuration: Kafka 3.9 reads log4j 1
# properties, Kafka 4 log4j2 XML.
kafka_logging_flag() {
  case $1 in
  kafka) printf '%s' "-Dlog4j.configuration=file:$HARNESS_DIR/kafka/log4j.properties" ;;
  kafka4) printf '%s' "-Dlog4j2.configurationFile=$HARNESS_DIR/kafka4/log4j2.xml" ;;
  esac
}

# kafka_tool <server> <class> [args]: a Kafka command-line class with that broker's jars.
kafka_tool() {
  local server=$1
  shift
  java -cp "$CACHE_DIR/$server/libs/*" "$(kafka_logging_flag "$server")" "$@"
}

# kafka_broker_launch <server> <host> <port> <controller port> <min heap> <max heap> [property…]
#
# One KRaft broker (broker and controller in one JVM) with its data under .data/<server>: the
# 3.9 broker and the 4.x one differ only in their jars, logging, address, heap and the extra
# properties given. Replication factors of 1 because there is one broker; no initial rebalance
# delay so a test's consumer joins its group at once.
kafka_broker_launch() {
  local server=$1 host=$2 port=$3 controller_port=$4 min_heap=$5 max_heap=$6
  shift 6
  local dir="$DATA_DIR/$server" bind advertised controller extra
  mkdir -p "$dir/logs"
  bind=$(bind_address "$host")
  advertised=$(join_host_port "$host" "$port")
  controller=$(join_host_port "$bind" "$controller_port")
  extra=$(printf '%s\n' "$@")
  # Regenerated on each start from the environment; the storage format below is kept.
  cat >"$dir/server.properties" <<EOF
# Written by scripts/servers.sh on each start; edits are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$controller
listeners=PLAINTEXT://$(join_host_port "$bind" "$port"),CONTROLLER://$controller
advertised.listeners=PLAINTEXT://$advertised
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/logs
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
$extra
EOF
  if [[ ! -s $dir/cluster.id ]]; then
    local id
    id=$(kafka_tool "$server" kafka.tools.StorageTool random-uuid 2>>"$(log_file "$server")" |
      tail -n 1)
    # A cluster id is a UUID in URL-safe base64 without padding: 22 characters.
    [[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] ||
      die "$server: StorageTool random-uuid printed '$id', not a cluster id; see .data/logs/$server.log"
    printf '%s\n' "$id" >"$dir/cluster.id"
  fi
  if [[ ! -f $dir/logs/meta.properties ]]; then
    say "$server: formatting storage in ${dir#"$ROOT"/}/logs"
    kafka_tool "$server" kafka.tools.StorageTool format -t "$(<"$dir/cluster.id")" \
      -c "$dir/server.properties" --ignore-formatted >>"$(log_file "$server")" 2>&1 || {
      log_tail "$server"
      die "$server: formatting storage failed"
    }
  fi
  spawn "$server" java "-Xms$min_heap" "-Xmx$max_heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "$(kafka_logging_flag "$server")" \
    -cp "$CACHE_DIR/$server/libs/*" kafka.Kafka "$dir/server.properties"
}

kafka_launch() {
  kafka_broker_launch kafka "$KAFKA_HOST" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" 256m 512m
}

kafka_probe() { node_probe kafka; }

# ---------------------------------------------------------------------------------------------
# Kafka 4.x (KRaft only, broker and controller in one JVM), beside the 3.9 broker above
#
# Set up as that one is, with three differences: its jars (scripts/harness/kafka4/pom.xml), its
# logging (log4j2 with scripts/harness/kafka4/log4j2.xml: Kafka 4 no longer reads log4j 1
# properties) and its address (KAFKA4_BROKERS). Both brokers share the machine's two cores with
# the MongoDB JVM, so its heap stays small.

kafka4_running_pid() {
  local pid
  pid=$(cat "$(pid_file kafka4)" 2>/dev/null) || return 1
  # The 3.9 broker runs the same main class: only this broker's properties file tells them apart.
  process_matches "$pid" "kafka.Kafka $DATA_DIR/kafka4/server.properties" && printf '%s' "$pid"
}

kafka4_install() {
  ensure_java
  resolve_jars kafka4
}

# The share-group state topic, new in 4.x, would otherwise ask for 3 replicas.
kafka4_launch() {
  kafka_broker_launch kafka4 "$KAFKA4_HOST" "$KAFKA4_PORT" "$KAFKA4_CONTROLLER_PORT" 128m 384m \
    share.coordinator.state.topic.replication.factor=1 share.coordinator.state.topic.min.isr=1
}

# The 3.9 broker's probe (scripts/harness/ready.ts), pointed at this one.
kafka4_probe() { KAFKA_BROKERS=$KAFKA4_BROKERS node_probe kafka; }

# ---------------------------------------------------------------------------------------------
# MongoDB wire protocol (mongo-java-server with the H2 backend)

mongo_running_pid() {
  local pid
  pid=$(cat "$(pid_file mongo)" 2>/dev/null) || return 1
  process_matches "$pid" MongoLauncher && printf '%s' "$pid"
}

mongo_install() {
  ensure_java
  resolve_jars mongo
  # The launcher and its backend classes: every .java of the folder. The hash covers their names
  # too, so adding or removing a file rebuilds as editing one does.
  local sources=("$HARNESS_DIR"/mongo/*.java) classes="$CACHE_DIR/mongo/classes"
  local stamp="$CACHE_DIR/mongo/classes.sha256" hash
  hash=$( (printf '%s\n' "${sources[@]##*/}" && cat "${sources[@]}" "$HARNESS_DIR/mongo/pom.xml") | sha256sum | cut -c1-64)
  if [[ -f $stamp && $(<"$stamp") == "$hash" && -f $classes/MongoLauncher.class ]]; then return 0; fi
  say "mongo: compiling the launcher into ${classes#"$ROOT"/}"
  rm -rf "$classes"
  mkdir -p "$classes"
  javac -nowarn -d "$classes" -cp "$CACHE_DIR/mongo/libs/*" "${sources[@]}"
  printf '%s\n' "$hash" >"$stamp"
}

mongo_launch() {
  mkdir -p "$DATA_DIR/mongo"
  # Connection open/close lines at INFO would drown everything else: every client logs two.
  spawn mongo java -Xms64m -Xmx512m -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd'T'HH:mm:ss.SSS" \
    -Dorg.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler=warn \
    -cp "$CACHE_DIR/mongo/classes:$CACHE_DIR/mongo/libs/*" \
    MongoLauncher "$(bind_address "$MONGO_HOST")" "$MONGO_PORT" "$DATA_DIR/mongo/mongo.mv"
}

mongo_probe() { node_probe mongo; }

# ---------------------------------------------------------------------------------------------
# generic lifecycle

# Ports a server binds, for the "already in use" check before launching it.
server_ports() {
  if [[ $1 == kafka ]]; then
    printf '%s %s' "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  elif [[ $1 == kafka4 ]]; then
    printf '%s %s' "$KAFKA4_PORT" "$KAFKA4_CONTROLLER_PORT"
  elif [[ $1 == redis-cluster ]]; then
    cluster_free_ports_needed
  else
    server_port "$1"
  fi
}

# Removes a pid file whose process is gone (or was replaced by an unrelated one).
clear_stale_pid() {
  local name=$1 file
  file=$(pid_file "$name")
  if [[ -f $file ]] && ! "${name}_running_pid" >/dev/null; then
    say "$name: removing stale pid file ${file#"$ROOT"/}"
    rm -f "$file"
  fi
}

# Polls a server until its probe passes, failing early when the process we started has died.
wait_ready() {
  local name=$1 deadline=$((SECONDS + READY_TIMEOUT)) out="" file
  file=$(log_file "$name")
  while true; do
    if out=$("${name}_probe" 2>&1); then
      say "$name: ready at $(server_url "$name")"
      return 0
    fi
    if is_managed "$name" && ! "${name}_running_pid" >/dev/null; then
      warn "$name: the server process exited before it became ready (log: ${file#"$ROOT"/})"
      [[ -z $out ]] || warn "$name: last check said: $out"
      log_tail "$name"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      warn "$name: not ready after ${READY_TIMEOUT}s at $(server_url "$name") (log: ${file#"$ROOT"/})"
      [[ -z $out ]] || warn "$name: last check said: $out"
      log_tail "$name"
      exit 1
    fi
    sleep 0.5
  done
}

stop_process() {
  local name=$1 pid waited=0
  if ! pid=$("${name}_running_pid"); then
    clear_stale_pid "$name"
    say "$name: not running"
    return 0
  fi
  say "$name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= STOP_TIMEOUT * 10)); then
      warn "$name: still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # Only our pid file: a concurrent start may already have written a new one.
  if [[ $(cat "$(pid_file "$name")" 2>/dev/null) == "$pid" ]]; then rm -f "$(pid_file "$name")"; fi
}

# start and stop hold this lock, so two of them (two terminals, a test run and a developer) take
# turns instead of one removing the pid file of a server the other has just started.
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/servers.lock"
  if ! flock -n 9; then
    say "waiting for another start or stop of this checkout's servers to finish"
    flock -w "$((READY_TIMEOUT + STOP_TIMEOUT + 600))" 9 || die "gave up waiting for $RUN_DIR/servers.lock"
  fi
}

# Orders the requested names for launching: the JVMs first so they boot while the rest start.
launch_order() {
  local name wanted
  for name in kafka kafka4 mongo redis redis-cluster postgres; do
    for wanted in "$@"; do
      if [[ $name == "$wanted" ]]; then
        printf '%s\n' "$name"
        break
      fi
    done
  done
}

cmd_start() {
  local name pid port launched=()
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  ensure_node_modules
  for name in $(launch_order "$@"); do
    if ! is_managed "$name"; then
      say "$name: $(server_url "$name") is not on this machine's loopback; leaving it to its owner"
      continue
    fi
    if pid=$("${name}_running_pid"); then
      say "$name: already running (pid $pid)"
      launched+=("$name")
      continue
    fi
    clear_stale_pid "$name"
    # A server this checkout did not start but that answers (docker compose, a system service)
    # is used as it is.
    if "${name}_probe" >/dev/null 2>&1; then
      say "$name: $(server_url "$name") is already served by another process; using it"
      continue
    fi
    "${name}_install"
    for port in $(server_ports "$name"); do
      if port_in_use "$(bind_address "$(server_host "$name")")" "$port"; then
        die "$name: port $port is already in use by a process this checkout did not start; stop it or set another port in the URL"
      fi
    done
    say "$name: starting (log: $(log_file "$name" | sed "s#^$ROOT/##"))"
    "${name}_launch"
    launched+=("$name")
  done
  for name in "${launched[@]}"; do
    wait_ready "$name"
  done
}

cmd_stop() {
  local name
  for name in "$@"; do
    if ! is_managed "$name"; then
      say "$name: $(server_url "$name") is not on this machine's loopback; leaving it to its owner"
      continue
    fi
    case $name in
      postgres) postgres_stop ;;
      redis-cluster) redis_cluster_stop ;;
      *) stop_process "$name" ;;
    esac
  done
}

cmd_status() {
  local name health owner pid down=0
  ensure_node_modules
  for name in "$@"; do
    if "${name}_probe" >/dev/null 2>&1; then health=healthy; else
      health=down
      down=1
    fi
    if ! is_managed "$name"; then
      owner=external
    elif pid=$("${name}_running_pid"); then
      owner="managed (pid $pid)"
    else
      owner="managed (not running)"
    fi
    printf '%-13s %-45s %-8s %s\n' "$name" "$(server_url "$name")" "$health" "$owner"
  done
  return "$down"
}

cmd_logs() {
  local follow=0 name file files=()
  if [[ ${1:-} == -f ]]; then
    follow=1
    shift
  fi
  [[ $# -gt 0 ]] || set -- "${ALL_SERVERS[@]}"
  for name in "$@"; do
    check_name "$name"
    file=$(log_file "$name")
    # Relative names: tail prints them as headers, and the script runs from the repo root.
    if [[ -f $file ]]; then files+=("${file#"$ROOT"/}"); else say "$name: no log yet (${file#"$ROOT"/})"; fi
    if [[ $name == redis-cluster ]]; then
      for file in $(cluster_ports); do
        file=$(log_file "redis-cluster-$file")
        if [[ -f $file ]]; then files+=("${file#"$ROOT"/}"); fi
      done
    fi
  done
  [[ ${#files[@]} -gt 0 ]] || return 0
  if [[ $follow -eq 1 ]]; then
    exec tail -n 50 -F "${files[@]}"
  fi
  for file in "${files[@]}"; do
    printf '==> %s <==\n' "$file"
    tail -n 50 "$file"
  done
}

check_name() {
  case $1 in
    redis | redis-cluster | postgres | kafka | kafka4 | mongo) ;;
    *) die "unknown server '$1' (expected: ${ALL_SERVERS[*]})" ;;
  esac
}

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  is_uint "$READY_TIMEOUT" || die "HARNESS_READY_TIMEOUT must be a whole number of seconds"
  is_uint "$STOP_TIMEOUT" || die "HARNESS_STOP_TIMEOUT must be a whole number of seconds"
  local command=${1:-}
  [[ $# -eq 0 ]] || shift
  case $command in
    start | stop | status)
      local name
      [[ $# -gt 0 ]] || set -- "${ALL_SERVERS[@]}"
      for name in "$@"; do check_name "$name"; done
      if [[ $command != status ]]; then take_lock; fi
      "cmd_$command" "$@"
      ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help)
      usage
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
