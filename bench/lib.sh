# bench/lib.sh — shell helpers the report scripts share (bench/top/run, bench/pipeline/run).
# Sourced, not run.

# The load averages, as uptime says them.
load() {
	uptime | sed 's/.*load average: //'
}

# Run a command (its output thrown away); print "CPU_SECONDS WALL_SECONDS" it took (user +
# system, its children's included); fail as it fails.
cpu_of() {
	local TIMEFORMAT='%3U %3S %3R' t
	t=$({ time "$@" >/dev/null 2>&1; } 2>&1) || return 1
	set -- $t
	echo "$(echo "$1 + $2" | bc -l) $3"
}

# The median of the numbers given.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# report_ratio LABEL WITHOUT... -- WITH...: both medians, their ratio (with / without) and
# the range of the per-round ratios (round i of each list against the other's).
report_ratio() {
	local label=$1 a=() b=() r=() i
	shift
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	for i in "${!a[@]}"; do r+=("$(echo "${b[$i]} / ${a[$i]}" | bc -l)"); done
	local ma mb
	ma=$(median "${a[@]}") mb=$(median "${b[@]}")
	printf '%s: median %.1f/s without track top, %.1f/s with it: ratio %.3f (per round %s)\n' \
		"$label" "$ma" "$mb" "$(echo "$mb / $ma" | bc -l)" \
		"$(printf '%s\n' "${r[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f-%.3f", lo, hi }')"
}
