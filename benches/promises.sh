#!/usr/bin/env bash
# Figures for the promises `sync --once`, `token revoke` and `daemon stop`
# make, each beside a baseline measured in the same run:
#   - `daemon stop` on an idle daemon      vs `syncdb --version` (a process start)
#   - `sync --once` on a caught-up replica vs `syncdb status` (a local round trip)
#   - `token revoke` → the session's end, from the revoke to the client's log line
# usage: benches/promises.sh   (env: B=path/to/syncdb [target/release/syncdb], N=runs [20])
set -euo pipefail
B=${B:-target/release/syncdb}
N=${N:-20}
ROOT=$(mktemp -d /tmp/sdbbench.XXXX)
trap 'for h in "$ROOT"/*/; do SYNCDB_HOME=$h $B daemon stop -q 2>/dev/null || true; done; rm -rf "$ROOT"' EXIT

now_us() { echo $(( $(date +%s%N) / 1000 )); }
# Median and p90 of microsecond samples on stdin, in ms.
stats() { sort -n | awk '{a[NR]=$1} END {printf "median %.2f ms, p90 %.2f ms (n=%d)", (a[int((NR+1)/2)]+a[int(NR/2)+1])/2000, a[int(NR*0.9+0.5)]/1000, NR}'; }
time_us() { local s e; s=$(now_us); "$@" >/dev/null 2>&1; e=$(now_us); echo $((e - s)); }

hub=$ROOT/hub; client=$ROOT/client; mkdir -p "$hub" "$client"
export SYNCDB_HOME=$hub
id=$($B init "$ROOT/hubf" -q)
$B -C "$ROOT/hubf" put crm/p/1 '{}' >/dev/null
addr=$($B serve --addr 127.0.0.1:0 --json | sed 's/.*"addr":"\([^"]*\)".*/\1/')

echo "machine: $(nproc) cores, $(uname -sr); binary: $B"
echo "baseline syncdb --version:   $(for i in $(seq $N); do time_us $B --version; done | stats)"
stop_samples() {
  for i in $(seq $N); do
    SYNCDB_HOME=$client $B daemon start -q >/dev/null
    sleep 0.2
    time_us env SYNCDB_HOME=$client $B daemon stop -q
  done
}
mkdir -p "$ROOT/cf"
SYNCDB_HOME=$client $B init "$ROOT/cf" -q >/dev/null
echo "daemon stop, idle:           $(stop_samples | stats)"
rm -rf "$client" "$ROOT/cf"; mkdir -p "$client"

export SYNCDB_HOME=$client
SYNCDB_HOME=$hub $B token create -q > "$ROOT/tok"; chmod 600 "$ROOT/tok"
$B clone "ws://$addr" "$id" "$ROOT/cf" --token-file "$ROOT/tok" -q
echo "baseline syncdb status:      $(for i in $(seq $N); do time_us $B -C "$ROOT/cf" status; done | stats)"
echo "sync --once, caught up:      $(for i in $(seq $N); do time_us $B -C "$ROOT/cf" sync --once -q; done | stats)"

revoke_samples() {
  # A replica is bound to its token until that is revoked: free it first.
  SYNCDB_HOME=$hub $B token revoke "$(cut -c5-12 "$ROOT/tok")" -q
  for i in $(seq $N); do
    SYNCDB_HOME=$hub $B token create -q > "$ROOT/tok$i"; chmod 600 "$ROOT/tok$i"
    $B -C "$ROOT/cf" remote add origin "ws://$addr" --token-file "$ROOT/tok$i" -q
    $B -C "$ROOT/cf" sync --once -q
    tid=$(cut -c5-12 "$ROOT/tok$i")
    s=$(now_us)
    SYNCDB_HOME=$hub $B token revoke "$tid" -q
    line=""
    for _ in $(seq 200); do
      line=$($B logs -n 50 2>/dev/null | grep "token was revoked" | tail -1 || true)
      [ -n "$line" ] && [ "$(date -d "${line%% *}" +%s%6N)" -ge "$s" ] && break
      line=""; sleep 0.01
    done
    [ -n "$line" ] || { echo "revocation not seen" >&2; exit 1; }
    echo $(( $(date -d "${line%% *}" +%s%6N) - s ))
  done
}
echo "token revoke → session end:  $(revoke_samples | stats)"
