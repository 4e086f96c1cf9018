#!/usr/bin/env bash
# bench-fleet.sh: a full poll of N loopback feeds (../shared/tools/fleet: 20 items each,
# ETag/304, 20% changed per round, 5% broken: half 500, half 3 s slow) with
# `networkfeed poll`, on the embedded store and on a private Redis, for each N given
# (default 1000 10000): the first poll (every feed new) and the next round (80% 304).
# Prints a Markdown table for BENCHMARKS.md: wall time, CPU seconds (networkfeed, and
# redis-server), peak RSS (VmHWM, a fresh process per run; it counts the pages of the
# embedded store's file mapped in memory) and peak anonymous RSS (sampled every 0.1 s:
# heap and stacks, without the file), answers seen by the fleet.
#
#   scripts/bench-fleet.sh [N ...]        env: WORKERS (256), FLEET (path to ../shared/tools/fleet),
#                                              STORES ("bolt redis"), PROFILE (dir: CPU profiles, heap
#                                              profiles at exit and at the largest live heap),
#                                              ROUNDS ("first next"; "first" skips the 304 round),
#                                              REDISINFO (dir: redis-server's INFO commandstats,
#                                              used_memory, the memory of the cluster keys and
#                                              how many items are in a cluster, after each run),
#                                              NFENV (environment for networkfeed, e.g. "GOMEMLIMIT=64MiB"),
#                                              TRACE (dir: execution traces, for go tool trace),
#                                              RSSLOG (dir: RssAnon and RssFile in MB every 0.1 s),
#                                              KEEP (dir: networkfeed's stderr and a copy of the
#                                              embedded store's file after each run)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
workers=${WORKERS:-256}
stores=${STORES:-bolt redis}
tmp=$(mktemp -d)
pids=()
. scripts/fleet-lib.sh
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -trimpath -o "$tmp/networkfeed" ./cmd/networkfeed
build_fleet

# feeds.yaml from the fleet's OPML: one member per feed, the per-host limit lifted
# (every fleet feed shares one host), concurrency raised to the worker count.
write_config() { # opml-url out
  curl -fsS "$1" | /usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
urls = [o.get("xmlUrl") for o in ET.parse(sys.stdin).iter("outline") if o.get("xmlUrl")]
print("network: {title: Fleet, url: \"http://127.0.0.1/\"}")
print("fetch: {interval: 30m, timeout: 30s, allow_private_addresses: true, per_host: -1, concurrency: %s}" % sys.argv[1])
print("members:")
for i, u in enumerate(urls):
    print("  - {id: f%d, name: Feed %d, sources: [{feed: \"%s\"}]}" % (i, i, u))
' "$workers" >"$2"
}

# run_poll label config store fleet-port fleet-pid [redis-pid redis-port] -> prints a table row
run_poll() {
  local label=$1 cfg=$2 store=$3 fport=$4 fpid=$5 rpid=${6:-} rport=${7:-}
  curl -fsS "http://127.0.0.1:$fport/_ctl/reset" >/dev/null
  local r0=0 f0 f1 slug=${label//[^A-Za-z0-9=]/_}
  f0=$(cpu_ticks "$fpid")
  [ -n "$rpid" ] && r0=$(cpu_ticks "$rpid")
  local envs=()
  [ -n "${PROFILE:-}" ] && envs+=(NETWORKFEED_CPUPROFILE="$PROFILE/$slug.cpu" NETWORKFEED_MEMPROFILE="$PROFILE/$slug.mem" NETWORKFEED_PEAKPROFILE="$PROFILE/$slug.peak")
  [ -n "${TRACE:-}" ] && envs+=(NETWORKFEED_TRACE="$TRACE/$slug.trace")
  [ -n "${NFENV:-}" ] && read -ra nfenv <<<"$NFENV" && envs+=("${nfenv[@]}")
  local t0 t1
  t0=$(date +%s.%N)
  env ${envs[@]+"${envs[@]}"} /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$tmp/networkfeed" poll -config "$cfg" -store "$store" -workers "$workers" >"$tmp/poll.out" 2>"$tmp/poll.err" &
  local tpid=$! anon=0 pid a
  # Peak anonymous memory (heap, stacks): RSS less the store file's mapped pages.
  while kill -0 "$tpid" 2>/dev/null; do
    pid=$(pgrep -P "$tpid" | head -1 || true)
    if [ -n "$pid" ]; then
      a=$(awk '/^RssAnon/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "${RSSLOG:-}" ] && awk -v t="$(date +%s.%N)" '/^Rss(Anon|File)/{v[$1]=$2} END{printf "%.1f %d %d\n", t, v["RssAnon:"]/1024, v["RssFile:"]/1024}' "/proc/$pid/status" >>"$RSSLOG/$slug.rss" 2>/dev/null
      [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    fi
    sleep 0.1
  done
  wait "$tpid"
  t1=$(date +%s.%N)
  local r1=0
  [ -n "$rpid" ] && r1=$(cpu_ticks "$rpid")
  if [ -n "$rpid" ] && [ -n "${REDISINFO:-}" ]; then
    { redis-cli -p "$rport" info commandstats; redis-cli -p "$rport" info memory | grep '^used_memory:'
      for k in fl sy cl ca; do echo "memory_usage_$k:$(redis-cli -p "$rport" memory usage "{nf}:$k" samples 0)"; done
      echo "clustered_items:$(redis-cli -p "$rport" hlen '{nf}:ca')"; } >"$REDISINFO/$slug.txt"
    redis-cli -p "$rport" config resetstat >/dev/null
  fi
  f1=$(cpu_ticks "$fpid")
  if [ -n "${KEEP:-}" ]; then
    cp "$tmp/poll.err" "$KEEP/$slug.err"
    [ -f "$store" ] && cp "$store" "$KEEP/$slug.db"
  fi
  read -r ut st rss <"$tmp/time"
  local stats
  stats=$(curl -fsS "http://127.0.0.1:$fport/_ctl/stats")
  local s200 s304 s500
  s200=$(echo "$stats" | stat_field status_200)
  s304=$(echo "$stats" | stat_field status_304)
  s500=$(echo "$stats" | stat_field status_500)
  local summary
  summary=$(tail -1 "$tmp/poll.out")
  printf '| %s | %.1f s | %.1f s | %s | %d MB | %d MB | %s / %s / %s | %.1f s | %s |\n' "$label" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$ut + $st" | bc)" \
    "$([ -n "$rpid" ] && printf '%.1f s' "$(echo "($r1 - $r0) / $tck" | bc -l)" || echo "–")" \
    $((rss / 1024)) $((anon / 1024)) "$s200" "$s304" "$s500" "$(echo "($f1 - $f0) / $tck" | bc -l)" "$summary"
}

echo "| run | wall | networkfeed CPU | redis CPU | peak RSS | peak anon RSS | fleet 200 / 304 / 500 | fleet CPU | networkfeed poll says |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  for kind in $stores; do
    start_fleet "$n"
    cfg="$tmp/feeds-$n.yaml"
    write_config "http://127.0.0.1:$fport/opml.xml" "$cfg"
    rpid="" rport=""
    case $kind in
      bolt) store="$tmp/bolt-$n.db" ;;
      redis)
        rport=$(freeport)
        redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
        rpid=$!
        pids+=("$rpid")
        for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
        store="redis://127.0.0.1:$rport/0"
        ;;
    esac
    run_poll "N=$n $kind, first poll" "$cfg" "$store" "$fport" "$fpid" "$rpid" "$rport"
    if [[ " ${ROUNDS:-first next} " == *" next "* ]]; then
      curl -fsS "http://127.0.0.1:$fport/_ctl/round" >/dev/null
      run_poll "N=$n $kind, next round" "$cfg" "$store" "$fport" "$fpid" "$rpid" "$rport"
    fi
    [ -n "$rpid" ] && { kill "$rpid"; wait "$rpid" 2>/dev/null || true; }
    kill "$fpid"; wait "$fpid" 2>/dev/null || true
  done
done
