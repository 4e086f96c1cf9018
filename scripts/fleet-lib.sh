# fleet-lib.sh: what bench-fleet.sh and bench-miniflux.sh share, sourced from the repository's
# root after $tmp is made and the pids array declared: the fleet fixture (FLEET: path to
# ../shared/tools/fleet), free ports, CPU ticks and the fleet's counters.
fleetdir=${FLEET:-../shared/tools/fleet}
[ -d "$fleetdir" ] || fleetdir=/work/shared/tools/fleet
if [ ! -d "$fleetdir" ]; then
  echo "the fleet fixture (shared/tools/fleet) is not in this repository and was not found: set FLEET=DIR" >&2
  rm -rf "$tmp"
  exit 1
fi
tck=$(getconf CLK_TCK)

build_fleet() { (cd "$fleetdir" && go build -o "$tmp/fleet" .); }
freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# start_fleet N: serves N feeds (20% changed per round, 5% broken) on a free port, sets fport
# and fpid, and waits until it answers.
start_fleet() {
  fport=$(freeport)
  "$tmp/fleet" -addr "127.0.0.1:$fport" -n "$1" -changed 0.2 -fail 0.05 2>"$tmp/fleet.log" &
  fpid=$!
  pids+=("$fpid")
  for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$fport/_ctl/stats" 2>/dev/null && break; sleep 0.1; done
}

# stat_field NAME: field NAME of the fleet's /_ctl/stats JSON on stdin.
stat_field() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
