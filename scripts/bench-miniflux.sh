#!/usr/bin/env bash
# bench-miniflux.sh: the reference figure for bench-fleet.sh. Miniflux (the reference feed
# aggregator, with PostgreSQL) refreshes the same N loopback feeds (../shared/tools/fleet:
# 20 items each, ETag/304, 20% changed per round, 5% broken: half 500, half 3 s slow), for
# each N given (default 1000 10000): the first refresh (every feed new) and the next round
# (80% 304). Run it on an otherwise idle machine, one measurement at a time.
#
#   scripts/bench-miniflux.sh [N ...]    env: MINIFLUX (path to the miniflux binary; unset: build
#                                             miniflux.app/v2@$MINIFLUX_VERSION, default v2.3.3,
#                                             from the Go module proxy, outside the repo),
#                                             WORKERS (WORKER_POOL_SIZE, 16), FLEET (path to
#                                             ../shared/tools/fleet), PGHOST (127.0.0.1),
#                                             PGPORT (5432), PGUSER (postgres), MFENV (more
#                                             environment for miniflux, e.g. "LOG_LEVEL=error"),
#                                             KEEPLOG (dir: keep miniflux's log of each N),
#                                             PGVACUUM (1: VACUUM ANALYZE before each refresh; 0: not)
#
# How one N is measured:
#  1. A fresh fleet and a fresh database (createdb; dropped at the end). `miniflux -migrate`,
#     then the daemon with DISABLE_SCHEDULER_SERVICE=1 and CREATE_ADMIN=1 only long enough to
#     POST the fleet's OPML to /v1/import. Importing only inserts the feeds (the script checks
#     that the fleet saw no request); the daemon is stopped before measuring.
#  2. First refresh: /_ctl/reset, then `miniflux -refresh-feeds` with BATCH_SIZE=N: one process
#     takes every due feed (next_check_at < now()) in one batch, refreshes them with
#     WORKER_POOL_SIZE workers, and exits when the last one is stored. "wall" is that process's
#     start to exit; "fleet done" is the fleet's last feed response, from the same start.
#     A refresh also fetches each new feed's icon (the site page and icon.png): those are
#     the fleet's "other" requests.
#  3. Next round: /_ctl/round, `miniflux -reset-feed-next-check-at` (every feed due again),
#     /_ctl/reset, and the same `-refresh-feeds` run. Miniflux sends the stored ETag and
#     Last-Modified, so 80% of the feeds answer 304.
# Settings: POLLING_LIMIT_PER_HOST=0 (no per-host limit: every fleet feed shares one host),
# POLLING_PARSING_ERROR_LIMIT=0 (the 500 feeds stay in the batch), FETCHER_ALLOW_PRIVATE_NETWORKS=1,
# everything else Miniflux's defaults (HTTP_CLIENT_TIMEOUT 20 s, DATABASE_MAX_CONNS 20, LOG_LEVEL
# info, written to a file). PostgreSQL is whatever runs on PGHOST:PGPORT, as configured there.
# Before each refresh, untimed: VACUUM ANALYZE (unless PGVACUUM=0) and CHECKPOINT, so the run
# starts with table statistics and no dirty buffers left from the step before, as a cluster with
# autovacuum on (the default) would mostly have by then. A cluster with autovacuum off never
# analyzes the tables that the first refresh fills: with PGVACUUM=0 on such a cluster, the N=10,000
# next round took 411 s instead of 106 s (PostgreSQL CPU 749 s instead of 154 s).
#
# Columns: "Miniflux CPU" and "peak RSS" are the refresh process's (/usr/bin/time). "PostgreSQL
# CPU" is the whole cluster's: utime+stime of every postgres process plus the postmaster's
# cutime+cstime (backends that exited during the run), after minus before; anything else using
# the same cluster meanwhile counts too. "entries" is the entries table after the run.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
workers=${WORKERS:-16}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
tmp=$(mktemp -d)
pids=()
dbs=()
. scripts/fleet-lib.sh
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for d in "${dbs[@]}"; do dropdb --if-exists "$d" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

miniflux=${MINIFLUX:-}
if [ -z "$miniflux" ]; then
  mfver=${MINIFLUX_VERSION:-v2.3.3}
  mkdir "$tmp/mfbuild"
  (cd "$tmp/mfbuild" && go mod init mfbuild >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod go get "miniflux.app/v2@$mfver" >/dev/null 2>&1 &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-X miniflux.app/v2/internal/version.Version=${mfver#v}" \
      -o "$tmp/miniflux" miniflux.app/v2)
  miniflux=$tmp/miniflux
fi
build_fleet
echo "miniflux $("$miniflux" -version), PostgreSQL $(psql -tAc 'SHOW server_version' postgres | cut -d' ' -f1) (autovacuum $(psql -tAc 'SHOW autovacuum' postgres), shared_buffers $(psql -tAc 'SHOW shared_buffers' postgres)), WORKER_POOL_SIZE=$workers, PGVACUUM=${PGVACUUM:-1}" >&2

pgdata=$(psql -tAc 'SHOW data_directory' postgres)
pgmaster=$(head -1 "$pgdata/postmaster.pid" 2>/dev/null || pgrep -o -x postgres)
# The whole cluster: every process under the postmaster, plus the children it has reaped.
pg_ticks() {
  local t=0 p
  for p in $pgmaster $(pgrep -P "$pgmaster"); do
    t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
  done
  echo $((t + $(awk '{print $16+$17}' "/proc/$pgmaster/stat")))
}

prepare_db() {
  [ "${PGVACUUM:-1}" = 0 ] || psql -qtAc 'VACUUM ANALYZE' "$1"
  psql -qtAc 'CHECKPOINT' "$1"
}

# run_refresh label fleet-port fleet-pid db -> prints a table row
run_refresh() {
  local label=$1 fport=$2 fpid=$3 db=$4
  curl -fsS "http://127.0.0.1:$fport/_ctl/reset" >/dev/null
  local f0 f1 p0 p1 t0 t1
  f0=$(cpu_ticks "$fpid")
  p0=$(pg_ticks)
  t0=$(date +%s.%N)
  env BATCH_SIZE="$n" /usr/bin/time -f '%U %S %M' -o "$tmp/time" \
    "$miniflux" -refresh-feeds >>"$tmp/miniflux-$db.log" 2>&1
  t1=$(date +%s.%N)
  p1=$(pg_ticks)
  f1=$(cpu_ticks "$fpid")
  read -r ut st rss <"$tmp/time"
  local stats
  stats=$(curl -fsS "http://127.0.0.1:$fport/_ctl/stats")
  local last entries
  last=$(echo "$stats" | stat_field last_feed_response_unix_ms)
  entries=$(psql -tAc 'SELECT count(*) FROM entries' "$db")
  printf '| %s | %.1f s | %.1f s | %.1f s | %.1f s | %d MB | %s / %s / %s | %s | %s | %.1f s |\n' "$label" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$last / 1000 - $t0" | bc -l)" "$(echo "$ut + $st" | bc)" \
    "$(echo "($p1 - $p0) / $tck" | bc -l)" $((rss / 1024)) \
    "$(echo "$stats" | stat_field status_200)" "$(echo "$stats" | stat_field status_304)" \
    "$(echo "$stats" | stat_field status_500)" "$(echo "$stats" | stat_field other_requests)" \
    "$entries" "$(echo "($f1 - $f0) / $tck" | bc -l)"
}

echo "| run | wall | fleet done | Miniflux CPU | PostgreSQL CPU | peak RSS | fleet 200 / 304 / 500 | other requests | entries | fleet CPU |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  start_fleet "$n"

  db=miniflux_bench_$$_$n
  dropdb --if-exists "$db" 2>/dev/null
  createdb "$db"
  dbs+=("$db")
  mport=$(freeport)
  export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable" \
    LISTEN_ADDR="127.0.0.1:$mport" WORKER_POOL_SIZE="$workers" POLLING_LIMIT_PER_HOST=0 \
    POLLING_PARSING_ERROR_LIMIT=0 FETCHER_ALLOW_PRIVATE_NETWORKS=1 LOG_FILE=stderr \
    RUN_MIGRATIONS=0 CREATE_ADMIN=0
  [ -n "${MFENV:-}" ] && export $MFENV
  "$miniflux" -migrate >>"$tmp/miniflux-$db.log" 2>&1

  # Import the OPML through the API of a short-lived daemon without its scheduler.
  CREATE_ADMIN=1 ADMIN_USERNAME=bench ADMIN_PASSWORD=bench-password DISABLE_SCHEDULER_SERVICE=1 \
    "$miniflux" >>"$tmp/miniflux-$db.log" 2>&1 &
  mpid=$!
  pids+=("$mpid")
  for _ in $(seq 300); do curl -fsS -o /dev/null "http://127.0.0.1:$mport/healthcheck" 2>/dev/null && break; sleep 0.1; done
  curl -fsS "http://127.0.0.1:$fport/opml.xml" >"$tmp/fleet.opml"
  curl -fsS -u bench:bench-password -X POST --data-binary @"$tmp/fleet.opml" \
    "http://127.0.0.1:$mport/v1/import" >/dev/null
  kill "$mpid"; wait "$mpid" 2>/dev/null || true
  feeds=$(psql -tAc 'SELECT count(*) FROM feeds' "$db")
  seen=$(curl -fsS "http://127.0.0.1:$fport/_ctl/stats" | stat_field feed_requests)
  [ "$feeds" -eq "$n" ] || { echo "import made $feeds feeds, not $n" >&2; exit 1; }
  [ "$seen" -eq 0 ] || echo "note: importing fetched $seen feeds" >&2
  prepare_db "$db"
  sleep 1 # next_check_at < now()

  run_refresh "Miniflux N=$n, first refresh" "$fport" "$fpid" "$db"
  curl -fsS "http://127.0.0.1:$fport/_ctl/round" >/dev/null
  "$miniflux" -reset-feed-next-check-at >>"$tmp/miniflux-$db.log" 2>&1
  prepare_db "$db"
  sleep 1
  run_refresh "Miniflux N=$n, next round" "$fport" "$fpid" "$db"

  grep -c 'level=WARN' "$tmp/miniflux-$db.log" | sed 's/^/miniflux warnings: /' >&2 || true
  [ -n "${KEEPLOG:-}" ] && cp "$tmp/miniflux-$db.log" "$KEEPLOG/miniflux-N$n.log"
  dropdb "$db"
  kill "$fpid"; wait "$fpid" 2>/dev/null || true
done
