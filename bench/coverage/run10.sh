#!/bin/bash
# Ten invocations of v.toml with each of two parbench binaries, interleaved
# (old, new, old, new, ...), each binary into a results folder of its own
# (old, new), as a user runs one job again and again: each invocation's
# files are copied to old1..old10 and new1..new10. Then `python3 check.py . old` and `python3 check.py . new`
# say, per entry, how many of the ten intervals cover the median of all ten
# medians, and which verdicts the ten gave (issue 37).
set -eu
cd "$(dirname "$0")"
: "${OLD:?set OLD to the binary to compare against}" "${NEW:?set NEW to the binary under test}"
for i in $(seq 1 10); do
  for which in old new; do
    binary=$OLD
    [ "$which" = new ] && binary=$NEW
    start=$(date +%s.%N)
    "$binary" run --quiet --out "$which" v.toml > /dev/null 2>&1 || true
    rm -rf "$which$i" && cp -r "$which" "$which$i"
    echo "$which$i $(echo "$(date +%s.%N) - $start" | bc) s, load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
