# tests/bench/stats.sh - the summary every benchmark prints, sourced by the
# make bench scripts (tests/bench/*-bench.sh)

# bench_stats FORMAT VALUE... - print FORMAT (awk printf) with the median,
# the minimum, the maximum and the count of the values, in that order; the
# median of an even count is the mean of the middle two
bench_stats() {
	local fmt=$1
	shift
	printf '%s\n' "$@" | sort -g | LC_ALL=C awk -v fmt="$fmt" '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf fmt, m, v[1], v[NR], NR }'
}
