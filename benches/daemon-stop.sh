#!/usr/bin/env bash
# Median wall time of `syncdb daemon stop` on an idle daemon (one folder, one db).
# usage: benches/daemon-stop.sh   (env: B=path/to/syncdb, N=runs; default 20)
set -euo pipefail
B=${B:-target/release/syncdb}
export SYNCDB_HOME=$(mktemp -d /tmp/sdbstop.XXXX)/h
mkdir -p "$SYNCDB_HOME/../f"
$B init "$SYNCDB_HOME/../f" -q >/dev/null
$B -C "$SYNCDB_HOME/../f" put crm/p/1 '{}' >/dev/null
for i in $(seq 1 ${N:-20}); do
  $B daemon start -q >/dev/null
  sleep 0.2
  s=$(date +%s%N); $B daemon stop -q; e=$(date +%s%N)
  echo $(( (e - s) / 1000 ))
done | sort -n | awk '{a[NR]=$1} END {printf "n=%d min=%.1fms median=%.1fms max=%.1fms\n", NR, a[1]/1000, (a[int((NR+1)/2)]+a[int(NR/2)+1])/2000, a[NR]/1000}'
rm -rf "$(dirname "$SYNCDB_HOME")"
