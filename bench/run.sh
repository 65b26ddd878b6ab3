#!/usr/bin/env bash
# run.sh — vakt against its peers, side by side, on one core and the same captures.
#
# Generates (once, cached in bench/out/) two synthetic captures with
# ../shared/tools/make-bench-pcap (mixes "realistic" and "small-flows"), then reads each one
# with every tool, pinned to one core with taskset, several rounds interleaved so that
# background noise hits every tool alike. Keeps the best wall time per tool, peak RSS from
# /usr/bin/time, and prints a table on stdout; bench/out/results.json holds the same
# figures. Progress goes to stderr. bench/README.md says what each number means.
#
#   make bench                       BENCH_MB=512, both mixes, best of 2
#   BENCH_MB=64 bench/run.sh         a quick run
#
# Environment: BENCH_MB (MiB per capture, default 512), BENCH_RUNS (rounds, default 2),
# BENCH_CPU (core to pin to, default 1), BENCH_MIXES (default "realistic small-flows"),
# BENCH_SEED (default 1), BENCH_TOOLS (subset of: floor vakt vakt-nodpi ndpiReader tshark
# argus; default all), VAKT (binary, default ./vakt).
set -euo pipefail
cd "$(dirname "$0")/.."

MB=${BENCH_MB:-512}
RUNS=${BENCH_RUNS:-2}
CPU=${BENCH_CPU:-1}
MIXES=${BENCH_MIXES:-realistic small-flows}
SEED=${BENCH_SEED:-1}
TOOLS=${BENCH_TOOLS:-floor vakt vakt-nodpi ndpiReader tshark argus}
VAKT=${VAKT:-./vakt}
OUT=bench/out
GEN=../shared/tools/make-bench-pcap
TSV=$OUT/results.tsv
LOGS=$OUT/logs

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

case $MB in ''|*[!0-9]*) die "BENCH_MB must be a whole number of MiB, not '$MB'";; esac
case $RUNS in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number, not '$RUNS'";; esac
[ -x "$VAKT" ] || die "$VAKT not found: run 'make' first (or 'make bench')"
[ -x "$GEN" ] || die "$GEN not found"
for t in taskset /usr/bin/time pkg-config cc python3; do
    command -v "$t" >/dev/null || die "$t is missing (see scripts/deps.sh)"
done
taskset -c "$CPU" true 2>/dev/null || die "cannot pin to core $CPU (BENCH_CPU)"
for t in $TOOLS; do
    case $t in floor|vakt|vakt-nodpi|ndpiReader|tshark|argus) ;; *) die "unknown tool '$t' in BENCH_TOOLS";; esac
done

mkdir -p "$OUT" "$LOGS"

# Others rebuild ./vakt while we measure: time a private copy, fixed for the whole run.
VK=$OUT/vakt-under-test
cp "$VAKT" "$VK.tmp" && mv "$VK.tmp" "$VK"
"$VK" version >/dev/null 2>&1 || die "$VAKT does not run (being rebuilt? try again)"

# --- the floor: a bare libpcap read loop -------------------------------------------------
FLOOR=$OUT/pcap_floor
if [ ! -x "$FLOOR" ] || [ bench/pcap_floor.c -nt "$FLOOR" ]; then
    say "building $FLOOR"
    # shellcheck disable=SC2046
    cc -O2 -Wall -Wextra -o "$FLOOR" bench/pcap_floor.c $(pkg-config --cflags --libs libpcap)
fi

# --- which peers are installed -----------------------------------------------------------
declare -A PKG=([ndpiReader]=libndpi-bin [tshark]=tshark [argus]=argus-server)
declare -A MISSING=()
for t in ndpiReader tshark argus; do
    if ! command -v "$t" >/dev/null; then
        MISSING[$t]=1
        say "$t is not installed (Debian package ${PKG[$t]}, listed in scripts/deps.sh: run 'make deps'); its rows stay empty"
    fi
done

# --- inputs (generated once; a file is only renamed into place when complete) -------------
inputs=()
for mix in $MIXES; do
    f=$OUT/$mix-$MB.pcap
    if [ ! -s "$f" ]; then
        say "generating $f (make-bench-pcap --size-mb $MB --seed $SEED --mix $mix)"
        "$GEN" --size-mb "$MB" --seed "$SEED" --mix "$mix" --out "$f.tmp" --quiet
        mv "$f.tmp" "$f"
    fi
    inputs+=("$f")
done

# CMD=(...) for tool $1 on file $2. stdout of every tool goes to /dev/null.
set_cmd() {
    # shellcheck disable=SC2054  # tshark's "conv,tcp" is one argument
    case $1 in
    floor)       CMD=("$FLOOR" "$2") ;;
    vakt)        CMD=("$VK" sessions --jsonl "$2") ;;
    vakt-nodpi)  CMD=("$VK" sessions --jsonl --no-dpi "$2") ;;
    vakt-stats)  CMD=("$VK" sessions --jsonl --stats "$2") ;;
    ndpiReader)  CMD=(ndpiReader -i "$2" -q) ;;   # -q: no flow dump; writes no files without -w/-C/-j
    tshark)      CMD=(tshark -r "$2" -q -z conv,tcp) ;;
    argus)       CMD=(argus -r "$2" -w /dev/null) ;;
    *) die "unknown tool '$1' in BENCH_TOOLS" ;;
    esac
}

# One timed run: appends "input tool run wall rss_kib user sys rc" to $TSV.
# Wall time comes from bash's clock (microseconds) around the run; peak RSS, user and
# system CPU from /usr/bin/time. taskset pins the tool and every thread/child it starts.
FAILED=0
measure() {
    local name=$1 tool=$2 run=$3 file=$4 out=${5:-/dev/null}
    local tf=$LOGS/$name-$tool.time err=$LOGS/$name-$tool.err rc=0 t0 t1 wall
    set_cmd "$tool" "$file"
    t0=$EPOCHREALTIME
    taskset -c "$CPU" /usr/bin/time -f '%e %M %U %S' -o "$tf" "${CMD[@]}" >"$out" 2>"$err" || rc=$?
    t1=$EPOCHREALTIME
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    read -r _ rss usr sys < <(tail -n 1 "$tf")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$tool" "$run" "$wall" "$rss" "$usr" "$sys" "$rc" >>"$TSV"
    if [ "$rc" -ne 0 ]; then
        FAILED=1
        say "  $tool FAILED (exit $rc), stderr in $err:"
        tail -n 5 "$err" | sed 's/^/bench:     /' >&2
    else
        say "  $(printf '%-11s' "$tool") ${wall} s  RSS $((rss / 1024)) MiB  (cpu ${usr}+${sys} s)"
    fi
}

printf 'input\ttool\trun\twall_s\trss_kib\tuser_s\tsys_s\trc\n' >"$TSV"
META=$OUT/meta.tsv
{
    printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'command\t%s\n' "BENCH_MB=$MB BENCH_RUNS=$RUNS BENCH_CPU=$CPU bench/run.sh"
    printf 'bench_mb\t%s\nruns\t%s\ncpu\t%s\nseed\t%s\n' "$MB" "$RUNS" "$CPU" "$SEED"
    printf 'host_cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    printf 'host_cores\t%s\n' "$(nproc)"
    printf 'kernel\t%s\n' "$(uname -sr)"
    printf 'load_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'ver_vakt\t%s\n' "$("$VK" version 2>&1 | head -n 1)"
    printf 'vakt_sha256\t%s\n' "$(sha256sum "$VK" | cut -c1-16)"
    printf 'vakt_tree\t%s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git status --porcelain -- src Makefile 2>/dev/null | grep -q . && echo ' + uncommitted changes in src/')"
    printf 'ver_libpcap\t%s\n' "$(pkg-config --modversion libpcap)"
    [ -n "${MISSING[ndpiReader]:-}" ] || printf 'ver_ndpiReader\t%s\n' "$(ndpiReader -h 2>&1 | sed -n 's/.*\(nDPI [0-9.]*\).*/\1/p' | head -n 1)"
    [ -n "${MISSING[tshark]:-}" ] || printf 'ver_tshark\t%s\n' "$(tshark -v 2>/dev/null | head -n 1)"
    [ -n "${MISSING[argus]:-}" ] || printf 'ver_argus\t%s\n' "argus $(dpkg-query -W -f='${Version}' argus-server 2>/dev/null || echo '?')"
    for tool in $TOOLS vakt-stats; do
        VK=$VAKT set_cmd "$tool" FILE
        printf 'cmd_%s\t%s\n' "$tool" "taskset -c $CPU ${CMD[*]}"
    done
} >"$META"

for f in "${inputs[@]}"; do
    name=$(basename "$f" .pcap)
    say "[$name] $(stat -c %s "$f") bytes; warming the page cache"
    rm -f "$LOGS/$name"-*
    cat "$f" >/dev/null
    for ((r = 1; r <= RUNS; r++)); do
        say "[$name] round $r/$RUNS"
        for tool in $TOOLS; do
            if [ -n "${MISSING[$tool]:-}" ]; then continue; fi
            if [ "$tool" = floor ]; then
                measure "$name" floor "$r" "$f" "$LOGS/$name-floor.out"
            else
                measure "$name" "$tool" "$r" "$f"
            fi
        done
    done
    # One more vakt run for its counters (JSON on stderr): flow state and sessions.
    say "[$name] vakt --stats (counters)"
    measure "$name" vakt-stats 1 "$f"
done

{
    printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    for f in "${inputs[@]}"; do
        name=$(basename "$f" .pcap)
        printf 'size_%s\t%s\n' "$name" "$(stat -c %s "$f")"
        printf 'floor_%s\t%s\n' "$name" "$(cat "$LOGS/$name-floor.out" 2>/dev/null || true)"
        printf 'stats_%s\t%s\n' "$name" "$(grep '^{' "$LOGS/$name-vakt-stats.err" 2>/dev/null | tail -n 1 || true)"
    done
} >>"$META"

python3 bench/report.py "$TSV" "$META" "$OUT/results.json"
say "figures in $OUT/results.json, logs in $LOGS/"
exit "$FAILED"
