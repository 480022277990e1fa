#!/usr/bin/env bash
# Seinpost local stack: a real Apache Kafka broker (KRaft, single node) and a
# real PostgreSQL server on loopback, without Docker. For development and CI.
#
# Usage: deploy/local/stack.sh COMMAND [kafka|postgres|all]     (default: all)
#
# Commands:
#   install   make sure prerequisites exist: PostgreSQL server binaries
#             (apt-get install postgresql when missing and running as root),
#             Java 17+ and Maven, and the Kafka jars (fetched once from Maven
#             Central into $SEINPOST_LOCAL_DIR/kafka/libs).
#   start     install as needed, then start and wait until ready. Idempotent:
#             a running component is left alone. Prints the start time.
#   stop      clean shutdown (Kafka: SIGTERM; PostgreSQL: fast shutdown),
#             SIGKILL after 30 s. Idempotent.
#   status    one line per component; exit 0 if all requested run, 3 otherwise.
#   env       print `export` lines for eval:
#               SEINPOST_KAFKA_BOOTSTRAP_SERVERS, SEINPOST_POSTGRES_DSN
#   reset     stop and delete the component's data (keeps the fetched jars).
#   kill      crash the component on purpose, for fault tests: the broker gets
#             SIGKILL (kill -9), PostgreSQL an immediate shutdown (SIGQUIT to
#             the postmaster: no checkpoint, crash recovery at the next start).
#             Waits until it is gone; `start` brings it back. Idempotent.
#   logs      tail of each component's log ($SEINPOST_LOG_LINES lines, 40).
#   help      this text.
#
# Environment (defaults in parentheses):
#   SEINPOST_LOCAL_DIR              state folder (<project root>/.local; the
#                                   project root is two levels above this script)
#   SEINPOST_KAFKA_PORT             broker port on 127.0.0.1 (9092)
#   SEINPOST_KAFKA_CONTROLLER_PORT  KRaft controller port on 127.0.0.1 (9093)
#   SEINPOST_KAFKA_LIBS_DIR         where the Kafka jars are ($SEINPOST_LOCAL_DIR/
#                                   kafka/libs); lets a second stack reuse the
#                                   jars the first one fetched
#   SEINPOST_KAFKA_HEAP_OPTS        broker JVM heap ("-Xms256m -Xmx768m")
#   SEINPOST_KAFKA_GC_OPTS          broker JVM garbage collector flags (G1, 20 ms
#                                   pause goal; Serial and Parallel measured no
#                                   cheaper at 500 records/s)
#   SEINPOST_KAFKA_SASL             "scram": the broker listener is
#                                   SASL_PLAINTEXT with SCRAM-SHA-256 only
#                                   (empty: PLAINTEXT). Fixed when the data
#                                   folder is formatted: use its own
#                                   SEINPOST_LOCAL_DIR and ports.
#   SEINPOST_KAFKA_SASL_USERNAME    SCRAM user created at format (seinpost)
#   SEINPOST_KAFKA_SASL_PASSWORD    its password (seinpost-scram); local
#                                   development and tests only
#   SEINPOST_PG_PORT                PostgreSQL port on 127.0.0.1 (5433)
#   SEINPOST_PG_PASSWORD            password of role `seinpost` (seinpost);
#                                   local development only, never production
#   SEINPOST_STACK_TIMEOUT          seconds to wait for readiness (120)
#   SEINPOST_PG_BINDIR              PostgreSQL bin folder (newest found in
#                                   /usr/lib/postgresql/*/bin, else PATH)
#   SEINPOST_LOG_LINES              lines shown by `logs` and on failure (40)
#
# Data: $SEINPOST_LOCAL_DIR/kafka/{libs,data,logs}, $SEINPOST_LOCAL_DIR/postgres/
# {data,log,run}. As root, PostgreSQL runs as the `postgres` OS user; if that
# user cannot reach $SEINPOST_LOCAL_DIR (e.g. a clone in a 0700 `mktemp -d`
# folder), the PostgreSQL folder goes to /var/tmp/seinpost-<hash>/postgres
# instead and $SEINPOST_LOCAL_DIR/postgres.path records where.
# See deploy/local/README.md.

set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)
PROG="deploy/local/stack.sh"

LOCAL_DIR_DEFAULTED=1
[[ -n "${SEINPOST_LOCAL_DIR:-}" ]] && LOCAL_DIR_DEFAULTED=0
LOCAL_DIR=${SEINPOST_LOCAL_DIR:-$PROJECT_ROOT/.local}
# absolute, symlinks resolved: process command lines are matched against it
LOCAL_DIR=$(realpath -m -- "$LOCAL_DIR")
KAFKA_PORT=${SEINPOST_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${SEINPOST_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_HEAP_OPTS=${SEINPOST_KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}
KAFKA_GC_OPTS=${SEINPOST_KAFKA_GC_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent}
KAFKA_SASL=${SEINPOST_KAFKA_SASL:-}
KAFKA_SASL_USERNAME=${SEINPOST_KAFKA_SASL_USERNAME:-seinpost}
KAFKA_SASL_PASSWORD=${SEINPOST_KAFKA_SASL_PASSWORD:-seinpost-scram}
PG_PORT=${SEINPOST_PG_PORT:-5433}
PG_PASSWORD=${SEINPOST_PG_PASSWORD:-seinpost}
STACK_TIMEOUT=${SEINPOST_STACK_TIMEOUT:-120}
LOG_LINES=${SEINPOST_LOG_LINES:-40}
STOP_TIMEOUT=30

PG_USER=seinpost
PG_DB=seinpost
PG_OS_USER=postgres

KAFKA_POM="$SCRIPT_DIR/kafka/pom.xml"
KAFKA_TEMPLATE="$SCRIPT_DIR/kafka/server.properties.template"

# ---------------------------------------------------------------- helpers

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }

is_root() { [[ $EUID -eq 0 ]]; }

check_number() {  # name value
  [[ "$2" =~ ^[0-9]+$ ]] || die "$1 must be a number, got '$2'"
}

now_ns() { date +%s%N; }

# elapsed_since START_NS -> "7.9"
elapsed_since() {
  local ms=$(( ($(now_ns) - $1) / 1000000 ))
  printf '%d.%d' $(( ms / 1000 )) $(( (ms % 1000) / 100 ))
}

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pid_alive PID: the process exists and is not a zombie. (An exited child
# that nobody reaped yet still answers kill -0; PID 1 of some sandboxes
# reaps late.)
pid_alive() {
  local pid=${1:-} stat=""
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ "${stat:0:1}" != Z ]]
}

# pid_cmdline PID: the process' command line, NULs as spaces ("" if gone)
pid_cmdline() {
  local c=""
  if [[ -r "/proc/$1/cmdline" ]]; then
    c=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true)
  fi
  printf '%s' "$c"
}

# tail_log FILE [N]: print the last lines of a log, framed, on stderr
tail_log() {
  local f=$1 n=${2:-$LOG_LINES}
  if [[ -f "$f" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" -- "$f" >&2 || true
    printf -- '----- end of %s -----\n' "$f" >&2
  else
    printf '(no log at %s)\n' "$f" >&2
  fi
}

# Serialise state-changing commands (start/stop/reset/install) per local dir.
take_lock() {
  mkdir -p -- "$LOCAL_DIR"
  exec 9>"$LOCAL_DIR/.stack.lock"
  if ! flock -w "$STACK_TIMEOUT" 9; then
    die "another $PROG is still working on $LOCAL_DIR (lock $LOCAL_DIR/.stack.lock)"
  fi
}

# urlencode STRING (RFC 3986 unreserved characters kept)
urlencode() {
  local s=$1 out="" c i
  local LC_ALL=C
  for (( i = 0; i < ${#s}; i++ )); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

# ---------------------------------------------------------------- Kafka

KAFKA_DIR="$LOCAL_DIR/kafka"
KAFKA_LIBS=${SEINPOST_KAFKA_LIBS_DIR:-$KAFKA_DIR/libs}
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOG_DIR="$KAFKA_DIR/logs"
KAFKA_LOG="$KAFKA_LOG_DIR/kafka.log"
KAFKA_CONF="$KAFKA_DIR/config/server.properties"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster-id"
# Records how the data folder was formatted ("plaintext" or "scram"): SCRAM users live in the
# KRaft metadata written at format time, so the mode cannot change without a reset.
KAFKA_MODE_FILE="$KAFKA_DIR/listener-mode"

JAVA=""

find_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    JAVA=$(command -v java)
  else
    die "java not found: Kafka needs Java 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless)"
  fi
  local out major
  out=$("$JAVA" -version 2>&1 || true)
  if [[ "$out" =~ version\ \"([0-9]+)(\.([0-9]+))? ]]; then
    major=${BASH_REMATCH[1]}
    [[ "$major" == 1 ]] && major=${BASH_REMATCH[3]}
  else
    die "cannot tell the version of $JAVA: $out"
  fi
  (( major >= 17 )) || die "Kafka 4 needs Java 17 or newer; $JAVA is Java $major"
}

kafka_version() {
  # the kafka_2.13 <version> in the pom
  sed -n '/<artifactId>kafka_2.13<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p;}' "$KAFKA_POM"
}

kafka_marker() { printf '%s/.complete' "$KAFKA_LIBS"; }

# The marker holds the pom's checksum and the number of jars fetched.
kafka_libs_complete() {
  local marker want_sum have_sum count jars
  marker=$(kafka_marker)
  [[ -f "$marker" ]] || return 1
  want_sum=$(sha1sum <"$KAFKA_POM" | cut -d' ' -f1)
  have_sum=$(sed -n 's/^pom-sha1=//p' "$marker")
  count=$(sed -n 's/^jars=//p' "$marker")
  [[ "$want_sum" == "$have_sum" && -n "$count" ]] || return 1
  jars=$(find "$KAFKA_LIBS" -maxdepth 1 -name '*.jar' | wc -l)
  [[ "$jars" -eq "$count" ]]
}

kafka_install() {
  find_java
  if kafka_libs_complete; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found: needed once to fetch the Kafka jars (Debian: apt-get install -y maven)"
  local version build tmp start jars
  version=$(kafka_version)
  [[ -n "$version" ]] || die "cannot read the Kafka version from $KAFKA_POM"
  say "kafka: fetching Kafka $version jars from Maven Central into $KAFKA_LIBS"
  start=$(now_ns)
  build="$KAFKA_DIR/build"
  tmp="$KAFKA_DIR/libs.tmp"
  mkdir -p -- "$build"
  rm -rf -- "$tmp"
  cp -- "$KAFKA_POM" "$build/pom.xml"
  if ! (cd "$build" && mvn -q -B -Dstyle.color=never -f "$build/pom.xml" \
          dependency:copy-dependencies -DincludeScope=runtime \
          -DoutputDirectory="$tmp" </dev/null >"$build/mvn.log" 2>&1 9>&-); then
    rm -rf -- "$tmp"
    tail_log "$build/mvn.log"
    die "mvn could not fetch the Kafka jars (Maven output: $build/mvn.log)"
  fi
  jars=$(find "$tmp" -maxdepth 1 -name '*.jar' | wc -l)
  [[ "$jars" -gt 0 ]] || die "mvn fetched no jars into $tmp"
  ls -- "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "mvn did not fetch kafka_2.13 into $tmp"
  {
    printf 'kafka=%s\n' "$version"
    printf 'pom-sha1=%s\n' "$(sha1sum <"$KAFKA_POM" | cut -d' ' -f1)"
    printf 'jars=%s\n' "$jars"
  } >"$tmp/.complete"
  rm -rf -- "$KAFKA_LIBS"
  mv -T -- "$tmp" "$KAFKA_LIBS"
  say "kafka: fetched $jars jars in $(elapsed_since "$start") s"
}

# kafka_render_config OUT DATA_DIR: render the template into OUT
kafka_render_config() {
  local out=$1 data=$2 line
  [[ -f "$KAFKA_TEMPLATE" ]] || die "missing $KAFKA_TEMPLATE"
  mkdir -p -- "$(dirname -- "$out")"
  : >"$out.tmp"
  while IFS= read -r line || [[ -n "$line" ]]; do
    line=${line//@KAFKA_PORT@/"$KAFKA_PORT"}
    line=${line//@CONTROLLER_PORT@/"$KAFKA_CONTROLLER_PORT"}
    line=${line//@DATA_DIR@/"$data"}
    printf '%s\n' "$line" >>"$out.tmp"
  done <"$KAFKA_TEMPLATE"
  if [[ "$KAFKA_SASL" == scram ]]; then
    # java.util.Properties keeps the last value of a key: these override the template.
    cat >>"$out.tmp" <<PROPS

############################# SASL/SCRAM (SEINPOST_KAFKA_SASL=scram) #############################
listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_SASL_USERNAME" password="$KAFKA_SASL_PASSWORD";
PROPS
  fi
  mv -- "$out.tmp" "$out"
}

# Is PID our broker (the broker of this local dir)?
kafka_is_ours() {
  local c
  c=$(pid_cmdline "$1")
  [[ "$c" == *kafka.Kafka* && "$c" == *"$KAFKA_CONF"* ]]
}

# kafka_pid: print the pid of our running broker, or fail. Cleans a stale pid
# file; finds a broker whose pid file was lost.
kafka_pid() {
  local pid="" p
  if [[ -f "$KAFKA_PIDFILE" ]]; then
    pid=$(tr -dc '0-9' 2>/dev/null <"$KAFKA_PIDFILE" || true)
    if pid_alive "$pid" && kafka_is_ours "$pid"; then
      printf '%s' "$pid"
      return 0
    fi
  fi
  for p in $(pgrep -f 'kafka\.Kafka' 2>/dev/null || true); do
    if kafka_is_ours "$p"; then
      printf '%s' "$p" >"$KAFKA_PIDFILE" 2>/dev/null || true
      printf '%s' "$p"
      return 0
    fi
  done
  return 1
}

kafka_clean_stale_pidfile() {
  if [[ -f "$KAFKA_PIDFILE" ]] && ! kafka_pid >/dev/null; then
    say "kafka: removing stale pid file (process $(tr -dc '0-9' 2>/dev/null <"$KAFKA_PIDFILE" || true) is gone or not this stack's broker)"
    rm -f -- "$KAFKA_PIDFILE"
  fi
}

kafka_storage_tool() {
  "$JAVA" -Xmx256m -XX:ActiveProcessorCount=2 -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool "$@" </dev/null 9>&-
}

# set_aside DIR: move a damaged data folder out of the way (never delete data)
set_aside() {
  local dest
  dest="$1.broken-$(date +%Y%m%d-%H%M%S)"
  mv -- "$1" "$dest"
  printf '%s' "$dest"
}

# Format the KRaft storage once. The format runs into a scratch folder that is
# renamed into place, so an interrupted format never leaves a half-made one.
kafka_format_if_needed() {
  local cid
  local want_mode=plaintext
  [[ "$KAFKA_SASL" == scram ]] && want_mode=scram
  if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
    local have_mode
    have_mode=$(cat "$KAFKA_MODE_FILE" 2>/dev/null || echo plaintext)
    [[ "$have_mode" == "$want_mode" ]] ||
      die "kafka: $KAFKA_DATA was formatted for $have_mode, SEINPOST_KAFKA_SASL asks for $want_mode; use another SEINPOST_LOCAL_DIR (or reset kafka)"
    cid=$(sed -n 's/^cluster\.id=//p' "$KAFKA_DATA/meta.properties")
    if [[ -n "$cid" && "$(cat "$KAFKA_CLUSTER_ID_FILE" 2>/dev/null || true)" != "$cid" ]]; then
      printf '%s\n' "$cid" >"$KAFKA_CLUSTER_ID_FILE"
    fi
    return 0
  fi
  if [[ -d "$KAFKA_DATA" ]]; then
    if [[ -z "$(ls -A -- "$KAFKA_DATA")" ]]; then
      rmdir -- "$KAFKA_DATA"
    else
      local aside
      aside=$(set_aside "$KAFKA_DATA")
      say "kafka: $KAFKA_DATA has no meta.properties (damaged); moved it to $aside, formatting afresh"
    fi
  fi
  cid=""
  if [[ -f "$KAFKA_CLUSTER_ID_FILE" ]]; then
    cid=$(tr -d '[:space:]' <"$KAFKA_CLUSTER_ID_FILE")
  fi
  if [[ -z "$cid" ]]; then
    cid=$(kafka_storage_tool random-uuid 2>/dev/null | tail -n 1 | tr -d '[:space:]')
    [[ -n "$cid" ]] || die "kafka: StorageTool random-uuid printed nothing"
    printf '%s\n' "$cid" >"$KAFKA_CLUSTER_ID_FILE"
  fi
  local start out tmp="$KAFKA_DIR/data.format" conf="$KAFKA_DIR/config/format.properties"
  start=$(now_ns)
  rm -rf -- "$tmp"
  kafka_render_config "$conf" "$tmp"
  local -a scram=()
  if [[ "$want_mode" == scram ]]; then
    scram=(--add-scram "SCRAM-SHA-256=[name=$KAFKA_SASL_USERNAME,password=$KAFKA_SASL_PASSWORD]")
  fi
  if ! out=$(kafka_storage_tool format -t "$cid" -c "$conf" "${scram[@]}" 2>&1); then
    printf '%s\n' "$out" >&2
    rm -rf -- "$tmp"
    die "kafka: storage format failed"
  fi
  [[ -f "$tmp/meta.properties" ]] || die "kafka: storage format wrote no $tmp/meta.properties"
  rm -f -- "$conf"
  mv -T -- "$tmp" "$KAFKA_DATA"
  printf '%s\n' "$want_mode" >"$KAFKA_MODE_FILE"
  say "kafka: formatted $KAFKA_DATA in $(elapsed_since "$start") s (cluster id $cid)"
}

# kafka_launch: start the broker in the background (own session, detached).
# Sets KAFKA_NEEDS_WAIT=1 when kafka_wait must follow, KAFKA_START_NS.
KAFKA_START_NS=0
KAFKA_NEEDS_WAIT=0
KAFKA_LAUNCH_PID=""
kafka_launch() {
  local pid
  KAFKA_NEEDS_WAIT=0
  if pid=$(kafka_pid); then
    if port_open "$KAFKA_PORT"; then
      say "kafka: already running (pid $pid, 127.0.0.1:$KAFKA_PORT)"
      return 0
    fi
    # Starting (another start is waiting for it) or dying (just killed).
    say "kafka: process $pid is up but 127.0.0.1:$KAFKA_PORT does not answer yet; waiting"
    KAFKA_START_NS=$(now_ns)
    local deadline=$(( $(date +%s) + STACK_TIMEOUT ))
    while pid_alive "$pid" && ! port_open "$KAFKA_PORT" && (( $(date +%s) < deadline )); do
      sleep 0.1
    done
    if pid_alive "$pid"; then
      KAFKA_NEEDS_WAIT=1
      return 0
    fi
    say "kafka: process $pid exited; starting afresh"
  fi
  kafka_clean_stale_pidfile
  KAFKA_START_NS=$(now_ns)
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      die "kafka: port 127.0.0.1:$p is already in use by another process (not this stack's broker; set SEINPOST_KAFKA_PORT / SEINPOST_KAFKA_CONTROLLER_PORT)"
    fi
  done
  mkdir -p -- "$KAFKA_LOG_DIR"
  kafka_render_config "$KAFKA_CONF" "$KAFKA_DATA"
  kafka_format_if_needed
  # One log per start: the previous one is kept as kafka.log.1.
  if [[ -f "$KAFKA_LOG" ]]; then
    mv -f -- "$KAFKA_LOG" "$KAFKA_LOG.1"
  fi
  : >"$KAFKA_LOG"
  local -a heap gc jvm
  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  read -r -a gc <<<"$KAFKA_GC_OPTS"
  jvm=(
    "${heap[@]}" "${gc[@]}"
    -server -XX:ActiveProcessorCount=2 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Dkafka.logs.dir="$KAFKA_LOG_DIR"
    -Dorg.slf4j.simpleLogger.showDateTime=true
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss,SSS"
    -Dorg.slf4j.simpleLogger.showThreadName=false
    -Dorg.slf4j.simpleLogger.showShortLogName=true
  )
  rm -f -- "$KAFKA_PIDFILE"
  # The child writes its own pid, then execs java (same pid) in a new session.
  (
    cd "$KAFKA_DIR"
    # shellcheck disable=SC2016  # $$ and $1 belong to the inner bash
    exec setsid bash -c 'printf "%s\n" "$$" >"$1"; shift; exec "$@"' _ \
      "$KAFKA_PIDFILE" "$JAVA" "${jvm[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF"
  ) </dev/null >>"$KAFKA_LOG" 2>&1 9>&- &
  KAFKA_LAUNCH_PID=$!
  KAFKA_NEEDS_WAIT=1
  return 0
}

# kafka_wait: poll until "Kafka Server started" is in this start's log and
# the port accepts; fail on timeout or when the process dies.
kafka_wait() {
  local deadline=$(( $(date +%s) + STACK_TIMEOUT )) pid="" orphan_deadline=""
  while :; do
    if [[ -z "$pid" && -s "$KAFKA_PIDFILE" ]]; then
      pid=$(tr -dc '0-9' 2>/dev/null <"$KAFKA_PIDFILE" || true)
    fi
    # launcher gone without a pid file: give a forked child 5 s to write it
    if [[ -z "$pid" && -n "$KAFKA_LAUNCH_PID" ]] && ! pid_alive "$KAFKA_LAUNCH_PID"; then
      [[ -n "$orphan_deadline" ]] || orphan_deadline=$(( $(date +%s) + 5 ))
      if (( $(date +%s) >= orphan_deadline )); then
        tail_log "$KAFKA_LOG"
        die "kafka: the broker did not start (log: $KAFKA_LOG)"
      fi
    fi
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      tail_log "$KAFKA_LOG"
      rm -f -- "$KAFKA_PIDFILE"
      die "kafka: broker process $pid exited during start-up (log: $KAFKA_LOG)"
    fi
    if [[ -n "$pid" ]] && grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null &&
       port_open "$KAFKA_PORT"; then
      break
    fi
    if (( $(date +%s) >= deadline )); then
      tail_log "$KAFKA_LOG"
      die "kafka: not ready after ${STACK_TIMEOUT} s (pid ${pid:-?}; still running, stop it with: $PROG stop kafka)"
    fi
    sleep 0.1
  done
  say "kafka: started in $(elapsed_since "$KAFKA_START_NS") s (pid $pid, 127.0.0.1:$KAFKA_PORT)"
}

kafka_stop() {
  local pid
  if ! pid=$(kafka_pid); then
    kafka_clean_stale_pidfile
    say "kafka: not running"
    return 0
  fi
  local start deadline
  start=$(now_ns)
  deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if (( $(date +%s) >= deadline )); then
      warn "kafka: pid $pid did not stop within ${STOP_TIMEOUT} s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while pid_alive "$pid"; do sleep 0.1; done
      break
    fi
    sleep 0.1
  done
  rm -f -- "$KAFKA_PIDFILE"
  say "kafka: stopped in $(elapsed_since "$start") s (pid $pid)"
}

# kafka_kill: SIGKILL the broker, as a crash would (fault tests)
kafka_kill() {
  local pid
  if ! pid=$(kafka_pid); then
    kafka_clean_stale_pidfile
    say "kafka: not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do sleep 0.05; done
  rm -f -- "$KAFKA_PIDFILE"
  say "kafka: killed (SIGKILL, pid $pid)"
}

kafka_status() {
  local pid
  if pid=$(kafka_pid); then
    if port_open "$KAFKA_PORT"; then
      say "kafka: running (pid $pid, 127.0.0.1:$KAFKA_PORT)"
      return 0
    fi
    say "kafka: not answering (pid $pid alive, 127.0.0.1:$KAFKA_PORT closed; starting or stuck)"
    return 3
  fi
  say "kafka: stopped"
  return 3
}

kafka_reset() {
  kafka_stop
  rm -rf -- "$KAFKA_DATA" "$KAFKA_DATA".broken-* "$KAFKA_DIR/data.format" "$KAFKA_LOG_DIR" \
    "$KAFKA_DIR/config" "$KAFKA_CLUSTER_ID_FILE" "$KAFKA_PIDFILE" "$KAFKA_MODE_FILE"
  say "kafka: data deleted (jars kept in $KAFKA_LIBS)"
}

kafka_env() {
  printf "export SEINPOST_KAFKA_BOOTSTRAP_SERVERS='127.0.0.1:%s'\n" "$KAFKA_PORT"
  if [[ "$KAFKA_SASL" == scram ]]; then
    printf "export SEINPOST_KAFKA_SECURITY_PROTOCOL='SASL_PLAINTEXT'\n"
    printf "export SEINPOST_KAFKA_SASL_MECHANISM='SCRAM-SHA-256'\n"
    printf "export SEINPOST_KAFKA_SASL_USERNAME='%s'\n" "$KAFKA_SASL_USERNAME"
    printf "export SEINPOST_KAFKA_SASL_PASSWORD='%s'\n" "$KAFKA_SASL_PASSWORD"
  fi
}

# ---------------------------------------------------------------- PostgreSQL

PG_BIN=""
PG_POINTER="$LOCAL_DIR/postgres.path"

# Where the PostgreSQL folder lives (data, log, run). Normally
# $LOCAL_DIR/postgres; when root and the postgres OS user cannot reach
# $LOCAL_DIR, /var/tmp/seinpost-<hash>/postgres (recorded in $PG_POINTER).
pg_fallback_root() {
  local key=$PROJECT_ROOT
  # A non-default local dir gets its own folder, so two local dirs of one
  # checkout never share a cluster.
  (( LOCAL_DIR_DEFAULTED )) || key=$LOCAL_DIR
  printf '/var/tmp/seinpost-%s' "$(printf '%s' "$key" | sha1sum | cut -c1-12)"
}

pg_resolve_dir() {
  if [[ -s "$PG_POINTER" ]]; then
    head -n 1 -- "$PG_POINTER"
    return 0
  fi
  local fb
  fb="$(pg_fallback_root)/postgres"
  if is_root && [[ ! -d "$LOCAL_DIR/postgres/data" && -d "$fb/data" ]]; then
    printf '%s' "$fb"
    return 0
  fi
  printf '%s' "$LOCAL_DIR/postgres"
}

PG_DIR=""
PG_DATA=""
PG_LOG=""
PG_RUN=""
pg_set_paths() {
  PG_DIR=$(pg_resolve_dir)
  PG_DATA="$PG_DIR/data"
  PG_LOG="$PG_DIR/log/postgres.log"
  PG_RUN="$PG_DIR/run"
}

# pg_chown PATH...: give paths to the postgres OS user (when root)
pg_chown() {
  if is_root; then chown "$PG_OS_USER:" -- "$@"; fi
}

# pg_as_owner CMD...: run a command as the OS user that owns the cluster.
pg_as_owner() {
  if is_root; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    "$@"
  fi
}

find_pg_bin() {
  local d
  if [[ -n "${SEINPOST_PG_BINDIR:-}" ]]; then
    [[ -x "$SEINPOST_PG_BINDIR/postgres" && -x "$SEINPOST_PG_BINDIR/initdb" ]] ||
      die "SEINPOST_PG_BINDIR=$SEINPOST_PG_BINDIR has no postgres/initdb"
    PG_BIN=$SEINPOST_PG_BINDIR
    return 0
  fi
  PG_BIN=""
  local -a dirs
  mapfile -t dirs < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
  for d in "${dirs[@]}"; do
    if [[ -x "$d/postgres" && -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/pg_isready" ]]; then
      PG_BIN=$d
    fi
  done
  if [[ -z "$PG_BIN" ]] && command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
    PG_BIN=$(dirname -- "$(command -v postgres)")
  fi
  [[ -n "$PG_BIN" ]]
}

pg_install() {
  if find_pg_bin; then
    :
  elif is_root && command -v apt-get >/dev/null 2>&1; then
    say "postgres: server binaries not found; installing the Debian package 'postgresql'"
    DEBIAN_FRONTEND=noninteractive apt-get update -q 9>&- ||
      die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 postgresql </dev/null 9>&- ||
      die "apt-get install postgresql failed"
    find_pg_bin || die "postgresql installed, but no server binaries in /usr/lib/postgresql/*/bin"
  elif is_root; then
    die "PostgreSQL server binaries not found and apt-get is not available; install PostgreSQL or set SEINPOST_PG_BINDIR"
  else
    die "PostgreSQL server binaries not found; install them (Debian: sudo apt-get install -y postgresql) or set SEINPOST_PG_BINDIR"
  fi
  if is_root; then
    id -u "$PG_OS_USER" >/dev/null 2>&1 ||
      die "running as root, but there is no '$PG_OS_USER' OS user to run PostgreSQL (it refuses to run as root)"
  fi
}

# Decide (once) where the PostgreSQL folder goes, create it with the right owner.
pg_prepare_dir() {
  mkdir -p -- "$LOCAL_DIR"
  if is_root && [[ ! -s "$PG_POINTER" && ! -d "$LOCAL_DIR/postgres/data" ]]; then
    if ! (cd / && runuser -u "$PG_OS_USER" -- test -x "$LOCAL_DIR") 2>/dev/null; then
      local fb
      fb="$(pg_fallback_root)/postgres"
      say "postgres: the '$PG_OS_USER' OS user cannot reach $LOCAL_DIR; using $fb instead"
      printf '%s\n' "$fb" >"$PG_POINTER"
    fi
  fi
  pg_set_paths
  if is_root && [[ "$PG_DIR" != "$LOCAL_DIR/postgres" ]]; then
    # the postgres OS user must be able to traverse it, whatever the umask
    mkdir -p -- "$(dirname -- "$PG_DIR")"
    chmod 0755 -- "$(dirname -- "$PG_DIR")"
  fi
  mkdir -p -- "$PG_DIR" "$PG_DIR/log" "$PG_RUN"
  chmod 0700 -- "$PG_DIR"
  pg_chown "$PG_DIR" "$PG_DIR/log" "$PG_RUN"
  if [[ -f "$PG_LOG" ]]; then pg_chown "$PG_LOG"; fi
  # unix socket paths are limited to 107 bytes
  if (( ${#PG_RUN} + 20 > 107 )); then
    die "postgres: socket folder path too long ($PG_RUN); set SEINPOST_LOCAL_DIR to a shorter path"
  fi
}

pg_initdb_if_needed() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  local tmp="$PG_DIR/data.initdb" pwfile="$PG_DIR/.pwfile" locale_opt=(--locale=C.UTF-8)
  local locales
  locales=$(locale -a 2>/dev/null || true)
  if ! grep -qix 'c\.utf-\?8' <<<"$locales"; then
    locale_opt=(--no-locale)
  fi
  if [[ -d "$PG_DATA" ]]; then
    local aside
    aside=$(set_aside "$PG_DATA")
    say "postgres: $PG_DATA has no PG_VERSION (damaged); moved it to $aside, running initdb afresh"
  fi
  rm -rf -- "$tmp"
  local start
  start=$(now_ns)
  (umask 077; printf '%s\n' "$PG_PASSWORD" >"$pwfile")
  pg_chown "$pwfile"
  local out
  if ! out=$(pg_as_owner "$PG_BIN/initdb" -D "$tmp" -U "$PG_USER" \
        --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pwfile" \
        --encoding=UTF8 "${locale_opt[@]}" </dev/null 2>&1 9>&-); then
    rm -f -- "$pwfile"
    printf '%s\n' "$out" >&2
    rm -rf -- "$tmp"
    die "postgres: initdb failed"
  fi
  rm -f -- "$pwfile"
  # Our settings live in seinpost.conf (rewritten on every start).
  printf "\n# Seinpost local stack settings (written by deploy/local/stack.sh)\ninclude_if_exists = 'seinpost.conf'\n" \
    >>"$tmp/postgresql.conf"
  mv -T -- "$tmp" "$PG_DATA"
  say "postgres: initdb into $PG_DATA in $(elapsed_since "$start") s"
}

pg_quote_conf() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }

pg_write_conf() {
  local f="$PG_DATA/seinpost.conf"
  cat >"$f.tmp" <<EOF
# Written by deploy/local/stack.sh on every start: edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = $(pg_quote_conf "$PG_RUN")
max_connections = 100
shared_buffers = 128MB
# Durability is part of the product's promise: keep these on, even locally.
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
log_checkpoints = off
EOF
  mv -- "$f.tmp" "$f"
  pg_chown "$f"
}

# Postmaster pid from postmaster.pid when it is a live postgres for our data.
pg_pid() {
  local pidfile="$PG_DATA/postmaster.pid" pid c
  [[ -f "$pidfile" ]] || return 1
  pid=$(head -n 1 -- "$pidfile" 2>/dev/null | tr -dc '0-9' || true)
  pid_alive "$pid" || return 1
  c=$(pid_cmdline "$pid")
  [[ "$c" == *postgres* ]] || return 1
  printf '%s' "$pid"
}

pg_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U "$PG_USER" -t 2 </dev/null 9>&-
}

pg_psql() {  # SQL on stdin, via the unix socket (trust), as the cluster owner role
  pg_as_owner "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
    -h "$PG_RUN" -p "$PG_PORT" -U "$PG_USER" -d postgres 9>&-
}

pg_setup_db() {
  local pw=${PG_PASSWORD//\'/\'\'} exists
  # Keep the role's password in step with SEINPOST_PG_PASSWORD (sent on stdin,
  # never on a command line).
  printf "ALTER ROLE %s WITH LOGIN PASSWORD '%s';\n" "$PG_USER" "$pw" | pg_psql >/dev/null ||
    die "postgres: could not set the password of role $PG_USER"
  exists=$(printf "SELECT 1 FROM pg_database WHERE datname = '%s';\n" "$PG_DB" | pg_psql) ||
    die "postgres: could not query pg_database"
  if [[ "$exists" != 1 ]]; then
    printf 'CREATE DATABASE %s OWNER %s;\n' "$PG_DB" "$PG_USER" | pg_psql >/dev/null ||
      die "postgres: could not create database $PG_DB"
    say "postgres: created database $PG_DB (owner $PG_USER)"
  fi
}

# After a crash (kill -9) the postmaster leaves postmaster.pid and the socket
# lock file behind. PostgreSQL ignores them only when their pid is gone, but
# an unreaped (zombie) or reused pid blocks it. No postmaster of ours runs
# (checked by the caller), and the socket folder is this cluster's own.
pg_clean_stale_locks() {
  local f pid
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    pid=$(head -n 1 -- "$PG_DATA/postmaster.pid" | tr -dc '0-9' || true)
    say "postgres: removing stale postmaster.pid (process ${pid:-?} is gone)"
    rm -f -- "$PG_DATA/postmaster.pid"
  fi
  for f in "$PG_RUN"/.s.PGSQL.*.lock; do
    [[ -e "$f" ]] || continue
    rm -f -- "$f" "${f%.lock}"
  done
}

pg_start() {
  pg_prepare_dir
  local pid start deadline
  start=$(now_ns)
  if pid=$(pg_pid); then
    if pg_ready; then
      pg_setup_db  # idempotent; keeps the password in step with the environment
      say "postgres: already running (pid $pid, 127.0.0.1:$PG_PORT)"
      return 0
    fi
    # Starting (another start is waiting for it) or dying (just killed).
    say "postgres: process $pid is up but not ready yet; waiting"
    deadline=$(( $(date +%s) + STACK_TIMEOUT ))
    while ! pg_ready; do
      if ! pg_pid >/dev/null; then
        say "postgres: process $pid exited; starting afresh"
        pid=""
        break
      fi
      if (( $(date +%s) >= deadline )); then
        tail_log "$PG_LOG"
        die "postgres: not ready after ${STACK_TIMEOUT} s (log: $PG_LOG)"
      fi
      sleep 0.1
    done
  fi
  if [[ -z "${pid:-}" ]]; then
    if port_open "$PG_PORT"; then
      die "postgres: port 127.0.0.1:$PG_PORT is already in use by another process (not this stack's server; set SEINPOST_PG_PORT)"
    fi
    pg_clean_stale_locks
    pg_initdb_if_needed
    pg_write_conf
    if [[ ! -f "$PG_LOG" ]]; then : >"$PG_LOG"; pg_chown "$PG_LOG"; fi
    local offset
    offset=$(stat -c %s -- "$PG_LOG")
    if ! pg_as_owner "$PG_BIN/pg_ctl" start -W -s -D "$PG_DATA" -l "$PG_LOG" </dev/null >/dev/null 9>&-; then
      tail_log "$PG_LOG"
      die "postgres: pg_ctl start failed"
    fi
    # Poll pg_isready; give up early if the postmaster died (its start-up
    # errors are in the log, after $offset).
    deadline=$(( $(date +%s) + STACK_TIMEOUT ))
    while ! pg_ready; do
      if ! pg_pid >/dev/null &&
         grep -qE '(FATAL|PANIC):' < <(tail -c +"$(( offset + 1 ))" -- "$PG_LOG"); then
        tail_log "$PG_LOG"
        die "postgres: server exited during start-up (log: $PG_LOG)"
      fi
      if (( $(date +%s) >= deadline )); then
        tail_log "$PG_LOG"
        die "postgres: not ready after ${STACK_TIMEOUT} s (log: $PG_LOG)"
      fi
      sleep 0.1
    done
  fi
  pg_setup_db
  pid=$(pg_pid || true)
  say "postgres: started in $(elapsed_since "$start") s (pid ${pid:-?}, 127.0.0.1:$PG_PORT, data $PG_DATA)"
}

pg_stop() {
  pg_set_paths
  local pid
  if ! pid=$(pg_pid); then
    if [[ -f "$PG_DATA/postmaster.pid" ]]; then
      say "postgres: removing stale postmaster.pid"
      rm -f -- "$PG_DATA/postmaster.pid"
    fi
    say "postgres: not running"
    return 0
  fi
  find_pg_bin || true
  local start deadline
  start=$(now_ns)
  deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  # Fast shutdown (SIGINT): rolls back open transactions and disconnects
  # clients; SIGTERM ("smart") would wait for every client to leave.
  kill -INT "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if (( $(date +%s) >= deadline )); then
      warn "postgres: pid $pid did not stop within ${STOP_TIMEOUT} s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while pid_alive "$pid"; do sleep 0.1; done
      break
    fi
    sleep 0.1
  done
  say "postgres: stopped in $(elapsed_since "$start") s (pid $pid)"
}

# pg_kill: immediate shutdown, as close to a crash as PostgreSQL allows without leaving
# orphaned backends behind (fault tests); the next start runs crash recovery.
pg_kill() {
  pg_set_paths
  local pid
  if ! pid=$(pg_pid); then
    say "postgres: not running"
    return 0
  fi
  kill -QUIT "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do sleep 0.05; done
  say "postgres: killed (immediate shutdown, pid $pid)"
}

pg_status() {
  pg_set_paths
  local pid
  if pid=$(pg_pid); then
    find_pg_bin || true
    if [[ -n "$PG_BIN" ]] && pg_ready; then
      say "postgres: running (pid $pid, 127.0.0.1:$PG_PORT, data $PG_DATA)"
      return 0
    fi
    say "postgres: not answering (pid $pid alive, 127.0.0.1:$PG_PORT not ready)"
    return 3
  fi
  say "postgres: stopped"
  return 3
}

pg_reset() {
  pg_stop
  local root
  rm -rf -- "$PG_DIR"
  if [[ -s "$PG_POINTER" ]]; then
    root=$(dirname -- "$PG_DIR")
    rmdir -- "$root" 2>/dev/null || true
    rm -f -- "$PG_POINTER"
  fi
  say "postgres: data deleted ($PG_DIR)"
}

pg_env() {
  printf "export SEINPOST_POSTGRES_DSN='postgresql://%s:%s@127.0.0.1:%s/%s'\n" \
    "$PG_USER" "$(urlencode "$PG_PASSWORD")" "$PG_PORT" "$PG_DB"
}

pg_logs() {
  pg_set_paths
  printf '==> %s <==\n' "$PG_LOG"
  if [[ -f "$PG_LOG" ]]; then tail -n "$LOG_LINES" -- "$PG_LOG"; else say "(no log yet)"; fi
}

kafka_logs() {
  printf '==> %s <==\n' "$KAFKA_LOG"
  if [[ -f "$KAFKA_LOG" ]]; then tail -n "$LOG_LINES" -- "$KAFKA_LOG"; else say "(no log yet)"; fi
}

# ---------------------------------------------------------------- commands

usage() {
  sed -n '2,/^$/{s/^# \{0,1\}//;p;}' "${BASH_SOURCE[0]}"
}

main() {
  local cmd=${1:-help} what=${2:-all}
  [[ $# -le 2 ]] || { usage >&2; exit 2; }
  case $what in
    all) ;;
    kafka) ;;
    postgres|pg|postgresql) what=postgres ;;
    *) usage >&2; die "unknown component '$what' (kafka, postgres or all)" ;;
  esac
  local do_kafka=0 do_pg=0
  [[ $what == all || $what == kafka ]] && do_kafka=1
  [[ $what == all || $what == postgres ]] && do_pg=1

  check_number SEINPOST_KAFKA_PORT "$KAFKA_PORT"
  check_number SEINPOST_KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  check_number SEINPOST_PG_PORT "$PG_PORT"
  check_number SEINPOST_STACK_TIMEOUT "$STACK_TIMEOUT"
  check_number SEINPOST_LOG_LINES "$LOG_LINES"
  [[ -n "$PG_PASSWORD" ]] || die "SEINPOST_PG_PASSWORD must not be empty"
  case $KAFKA_SASL in
    ""|scram) ;;
    *) die "SEINPOST_KAFKA_SASL must be empty or 'scram', got '$KAFKA_SASL'" ;;
  esac
  if [[ "$KAFKA_SASL" == scram ]]; then
    [[ "$KAFKA_SASL_USERNAME$KAFKA_SASL_PASSWORD" =~ ^[A-Za-z0-9._-]+$ ]] ||
      die "SEINPOST_KAFKA_SASL_USERNAME/_PASSWORD: letters, digits, '.', '_' and '-' only"
  fi
  if [[ $what == all ]]; then
    local -A seen=()
    local p
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$PG_PORT"; do
      [[ -z "${seen[$p]:-}" ]] || die "port $p is configured twice (SEINPOST_KAFKA_PORT, SEINPOST_KAFKA_CONTROLLER_PORT, SEINPOST_PG_PORT must differ)"
      seen[$p]=1
    done
  elif [[ "$KAFKA_PORT" == "$KAFKA_CONTROLLER_PORT" ]]; then
    die "SEINPOST_KAFKA_PORT and SEINPOST_KAFKA_CONTROLLER_PORT must differ"
  fi

  case $cmd in
    install)
      take_lock
      (( do_pg )) && { pg_install; say "postgres: server binaries in $PG_BIN"; }
      (( do_kafka )) && { kafka_install; say "kafka: $(kafka_version) jars in $KAFKA_LIBS"; }
      ;;
    start)
      take_lock
      (( do_pg )) && pg_install
      (( do_kafka )) && kafka_install
      # Kafka boots in the background while PostgreSQL starts; then wait for it.
      (( do_kafka )) && kafka_launch
      (( do_pg )) && pg_start
      (( do_kafka && KAFKA_NEEDS_WAIT )) && kafka_wait
      ;;
    stop)
      take_lock
      # Both shut down at the same time.
      local kpid="" rc=0
      if (( do_kafka )); then kafka_stop & kpid=$!; fi
      (( do_pg )) && { pg_stop || rc=1; }
      if [[ -n "$kpid" ]]; then wait "$kpid" || rc=1; fi
      return "$rc"
      ;;
    kill)
      take_lock
      (( do_kafka )) && kafka_kill
      (( do_pg )) && pg_kill
      ;;
    status)
      local rc=0
      (( do_kafka )) && { kafka_status || rc=3; }
      (( do_pg )) && { pg_status || rc=3; }
      return "$rc"
      ;;
    env)
      (( do_kafka )) && kafka_env
      (( do_pg )) && pg_env
      ;;
    reset)
      take_lock
      (( do_kafka )) && kafka_reset
      (( do_pg )) && pg_reset
      ;;
    logs)
      (( do_kafka )) && kafka_logs
      (( do_kafka && do_pg )) && echo
      (( do_pg )) && pg_logs
      ;;
    help|-h|--help)
      usage
      ;;
    *)
      usage >&2
      die "unknown command '$cmd'"
      ;;
  esac
  return 0
}

main "$@"
