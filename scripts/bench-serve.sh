#!/usr/bin/env bash
# bench-serve.sh: wrk on loopback against networkfeed's web handler over a bolt store of
# 1,000,000 items, side by side with a minimal net/http server that serves the same
# /feed.atom bytes from memory. Prints a Markdown table for BENCHMARKS.md.
#
#   scripts/bench-serve.sh [-d 10s] [-c 32] [-t 1] [-db /tmp/nf-bench-1m.db] [-n 1000000] [-profile DIR] [-bin FILE] [-pairs 7]
#
# After the table, -pairs K alternates the baseline and the cached /feed.atom K times (5 s
# each) and prints each pair's ratio and their median: on a shared 2-core machine, runs
# minutes apart differ more than the two servers do, so the ratio is taken pair by pair.
#
# -bin runs a benchserve binary built before (go build -tags benchserve ./internal/web/benchserve),
# e.g. one of an older commit, to compare two versions on the same store.
# The store file is filled on first use (about a minute) and reused afterwards.
set -euo pipefail
dur=10s conns=32 threads=1 db=/tmp/nf-bench-1m.db n=1000000 profile="" bin="" pairs=7
while [ $# -gt 0 ]; do
  case "$1" in
    -d) dur=$2; shift 2 ;; -c) conns=$2; shift 2 ;; -t) threads=$2; shift 2 ;;
    -db) db=$2; shift 2 ;; -n) n=$2; shift 2 ;; -profile) profile=$2; shift 2 ;; -bin) bin=$2; shift 2 ;;
    -pairs) pairs=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
cd "$(dirname "$0")/.."
nf=127.0.0.1:18081 base=127.0.0.1:18082 pp=127.0.0.1:18083
tmp=$(mktemp -d)
if [ -n "$bin" ]; then
  cp "$bin" "$tmp/benchserve"
else
  go build -tags benchserve -o "$tmp/benchserve" ./internal/web/benchserve
fi
"$tmp/benchserve" -db "$db" -n "$n" -addr $nf -base-addr $base -pprof $pp 2>"$tmp/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 600); do
  curl -fsS -o /dev/null "http://$base/" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 1
done
etag=$(curl -fsS -D - -o /dev/null "http://$nf/feed.atom" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
bytes=$(curl -fsS "http://$nf/feed.atom" | wc -c)

# Each request of an uncached run has its own since= (before every item), so each misses
# the render cache and is read from the store and rendered.
cat >"$tmp/vary.lua" <<'LUA'
local n = 0
local prefix = os.getenv("NF_PATH") or "/feed.atom?"
request = function()
  n = n + 1
  return wrk.format("GET", prefix .. "since=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", 978307200 + n))
end
LUA

row() { # name url [wrk args...]
  local name=$1 url=$2; shift 2
  local out; out=$(wrk -t"$threads" -c"$conns" -d"$dur" --latency "$@" "$url")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out" && [[ "$name" != *304* ]]; then echo "$out" >&2; fi
  printf '| %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99"
}

if [ -n "$profile" ]; then
  mkdir -p "$profile"
  (sleep 1; curl -fsS -o "$profile/cached.pprof" "http://$pp/debug/pprof/profile?seconds=5") &
  prof=$!
  wrk -t"$threads" -c"$conns" -d7s "http://$nf/feed.atom" >/dev/null
  wait $prof
  (sleep 1; curl -fsS -o "$profile/uncached-filtered.pprof" "http://$pp/debug/pprof/profile?seconds=5") &
  prof=$!
  NF_PATH="/feed.atom?member=m03&lang=ja&" wrk -t"$threads" -c"$conns" -d7s -s "$tmp/vary.lua" "http://$nf" >/dev/null
  wait $prof
  cp "$tmp/benchserve" "$profile/benchserve"
  echo "profiles in $profile (go tool pprof -top $profile/benchserve $profile/cached.pprof)" >&2
fi

echo "store: $n items in $db; /feed.atom: 50 items, $bytes bytes; wrk -t$threads -c$conns -d$dur on loopback; $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo
echo "| request | requests/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
row "baseline: same bytes from memory (minimal net/http)" "http://$base/feed.atom"
row "/feed.atom, cached" "http://$nf/feed.atom"
row "/feed.atom, cached, gzip" "http://$nf/feed.atom" -H "Accept-Encoding: gzip"
row "/feed.atom, 304 (If-None-Match)" "http://$nf/feed.atom" -H "If-None-Match: $etag"
row "/feed.atom?member=m03&lang=ja, cached" "http://$nf/feed.atom?member=m03&lang=ja"
NF_PATH="/feed.atom?" row "/feed.atom, uncached (since= varies)" "http://$nf" -s "$tmp/vary.lua"
NF_PATH="/feed.atom?member=m03&lang=ja&" row "/feed.atom?member=m03&lang=ja, uncached" "http://$nf" -s "$tmp/vary.lua"
# One connection: the latency of a single uncached render, without queueing behind others.
allconns=$conns
conns=1
NF_PATH="/feed.atom?" row "/feed.atom, uncached, 1 connection" "http://$nf" -s "$tmp/vary.lua"
NF_PATH="/feed.atom?member=m03&lang=ja&" row "/feed.atom?member=m03&lang=ja, uncached, 1 connection" "http://$nf" -s "$tmp/vary.lua"
conns=$allconns

# Pairs: baseline then cached, back to back, K times; the ratio of each pair, then the median.
if [ "$pairs" -gt 0 ]; then
  echo
  echo "| pair | baseline req/s | cached /feed.atom req/s | cached / baseline |"
  echo "|---|---:|---:|---:|"
  ratios=()
  for i in $(seq "$pairs"); do
    b=$(wrk -t"$threads" -c"$conns" -d5s "http://$base/feed.atom" | awk '/^Requests\/sec/{print $2}')
    c=$(wrk -t"$threads" -c"$conns" -d5s "http://$nf/feed.atom" | awk '/^Requests\/sec/{print $2}')
    r=$(echo "scale=3; $c / $b" | bc)
    ratios+=("$r")
    printf '| %d | %s | %s | %s |\n' "$i" "$b" "$c" "$r"
  done
  printf '| **median** | | | **%s** |\n' "$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
fi
