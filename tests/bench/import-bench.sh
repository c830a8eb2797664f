#!/bin/bash
# tests/bench/import-bench.sh - make bench: mxtier-import beside pflogsumm
#
# Generates a Postfix maillog of LINES lines (default 2,000,000; the shape
# of a busy server's log, tests/import/genlog.sh) and times, RUNS times
# (default 3), on the same file in the same run:
#   - pflogsumm (Debian's package): it only counts, the floor to beat;
#   - mxtier-import --dry-run >/dev/null: parsing and the JSON lines;
#   - mxtier-import into a new journal: parsing, rows, backoff, positions.
# Prints lines/s of CPU time (user+sys: one core) and of wall time, medians,
# and the ratio to pflogsumm. Then --follow's lag: a line appended to a
# followed log, timed until its row is in the journal (median of RUNS).
# Speed is measured here, never asserted in tests.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
LINES=${LINES:-2000000}
RUNS=${RUNS:-3}
run=$top/tests/tmp/ibench.$$
. "$top/tests/bench/stats.sh"
follow_pid=
cleanup() { [[ -n $follow_pid ]] && kill "$follow_pid" 2>/dev/null; rm -rf "$run"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$run"
command -v pflogsumm >/dev/null || { echo "import-bench: pflogsumm is missing (apt-get install pflogsumm)" >&2; exit 1; }

msgs=$(( (LINES + 7) / 8 ))
"$top/tests/import/genlog.sh" 0 "$msgs" | head -n "$LINES" >"$run/mail.log"
lines=$(wc -l <"$run/mail.log")
size=$(du -m "$run/mail.log" | cut -f1)
echo "== mxtier-import: $lines lines ($size MiB, $msgs messages) of a generated Postfix log, $RUNS runs"

# timed NAME CMD... - run once, append "wall cpu" seconds to $run/NAME
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$run/t" "$@" >/dev/null 2>"$run/err" || {
		echo "import-bench: $name failed:" >&2
		head -5 "$run/err" >&2
		exit 1
	}
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$run/t" >>"$run/$name"
}

printf 'journal { path = "%s/journal.db" }\n' "$run" >"$run/mxtier.conf"
for ((i = 0; i < RUNS; i++)); do
	timed pflogsumm pflogsumm "$run/mail.log"
	timed dryrun "$top/plugin/mxtier-import" --dry-run --from postfix "$run/mail.log"
	rm -f "$run"/journal.db*
	timed import "$top/plugin/mxtier-import" -c "$run/mxtier.conf" --node bench "$run/mail.log"
done
rows=$(sqlite3 "$run/journal.db" 'select count(*) from attempts')

median_of() { awk -v c="$2" '{ print $c }' "$run/$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-34s %12s %12s %10s %10s\n' "" "lines/s cpu" "lines/s wall" "cpu s" "x pflogsumm"
pcpu=$(median_of pflogsumm 2)
for name in pflogsumm dryrun import; do
	wall=$(median_of "$name" 1)
	cpu=$(median_of "$name" 2)
	label=$name
	[[ $name == dryrun ]] && label="mxtier-import --dry-run"
	[[ $name == import ]] && label="mxtier-import (journal, $rows rows)"
	awk -v l="$label" -v n="$lines" -v w="$wall" -v c="$cpu" -v p="$pcpu" 'BEGIN {
		if (c < 0.001) c = 0.001
		if (w < 0.001) w = 0.001
		printf "%-34s %12.0f %12.0f %10.2f %10.1f\n", l, n / c, n / w, c, p / c }'
done

# --follow: an appended attempt until its row is in the journal
rm -f "$run"/journal.db* "$run/live.log"
: >"$run/live.log"
timeout 120 "$top/plugin/mxtier-import" -c "$run/mxtier.conf" --follow "$run/live.log" 2>/dev/null &
follow_pid=$!
lags=()
for ((i = 0; i < RUNS + 2; i++)); do
	before=$(date +%s%N)
	"$top/tests/import/genlog.sh" $((900000 + i)) 1 >>"$run/live.log"
	want=$((i + 1))
	deadline=$((SECONDS + 10))
	until [[ $(sqlite3 "$run/journal.db" 'select count(distinct queue_id) from attempts' 2>/dev/null) == "$want" ]]; do
		((SECONDS < deadline)) || { echo "import-bench: --follow did not record line $i in 10 s" >&2; break; }
		sleep 0.01
	done
	lags+=($(( ($(date +%s%N) - before) / 1000000 )))
done
kill "$follow_pid" 2>/dev/null
wait "$follow_pid" 2>/dev/null
follow_pid=
printf '%s\n' "${lags[@]}" | sort -n | awk '{ v[NR] = $1 } END {
	printf "--follow lag (append to row in the journal): median %d ms, min %d, max %d (%d lines)\n",
		v[int((NR + 1) / 2)], v[1], v[NR], NR }'
