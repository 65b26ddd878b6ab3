#!/usr/bin/env bash
# store.sh — what storing costs, and how fast stored data answers (issue 3's figures).
#
#   1. ingest vs the plain `vakt sessions --jsonl` pass on the bench captures (same run,
#      best of BENCH_RUNS, both with the machine's cores: ingest's writer is a thread);
#   2. meta bytes on disk per session, against Arkime's estimate of SPI = 2.5% of traffic;
#   3. on a store of STORE_N (10M) synthetic sessions (bench/store_fill.c, copies of the
#      realistic capture's sessions): `vakt values` over 5 keys (top 20), unfiltered and
#      filtered, and a selective query (one client IP).
#
#   bench/store.sh                       # BENCH_MB=512, STORE_N=10000000
#   BENCH_MB=64 STORE_N=200000 bench/store.sh   # quick
#   STORE_QUERIES=0 bench/store.sh              # parts 1 and 2 only
#
# The 10M store is cached in bench/out/store-N (it takes minutes to build). Figures go to
# stdout; docs/BENCH.md keeps the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${BENCH_MB:-512}
N=${STORE_N:-10000000}
RUNS=${BENCH_RUNS:-2}
MIXES=${BENCH_MIXES:-realistic small-flows}
VAKT=${VAKT:-./vakt}
OUT=bench/out
GEN=../shared/tools/make-bench-pcap
say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }
[ -x "$VAKT" ] || die "$VAKT not found: run make first"
mkdir -p "$OUT"
VK=$OUT/vakt-store-test
cp "$VAKT" "$VK.tmp" && mv "$VK.tmp" "$VK"

now() { date +%s.%N; }
best() { # best wall time of RUNS runs of "$@"
    local b="" t0 t1 d
    for _ in $(seq "$RUNS"); do
        t0=$(now); "$@" >/dev/null 2>&1 || die "failed: $*"; t1=$(now)
        d=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$d < $b" | bc -l)" = 1 ]; then b=$d; fi
    done
    echo "$b"
}

echo "vakt store benchmark  $(date -u +%FT%TZ)  BENCH_MB=$MB STORE_N=$N  host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "vakt binary sha256 $(sha256sum "$VK" | cut -c1-16)..., tree $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
printf '%-16s %10s %10s %9s %12s %12s %10s %12s %12s\n' capture sessions "sessions s" "ingest s" "ingest ses/s" "ingest Gb/s" "store cost" "meta B/ses" "2.5% B/ses"
for mix in $MIXES; do
    pcap=$OUT/$mix-$MB.pcap
    [ -f "$pcap" ] || { say "generating $pcap"; "$GEN" --size-mb "$MB" --seed 1 --mix "$mix" --out "$pcap" --quiet; }
    say "$mix: sessions pass"
    ts=$(best "$VK" sessions --jsonl "$pcap")
    say "$mix: ingest"
    ing() { rm -rf "$OUT/store-ingest"; "$VK" ingest --data "$OUT/store-ingest" "$pcap"; }
    ti=$(best ing)
    st=$("$VK" status --data "$OUT/store-ingest" --format json)
    recs=$(echo "$st" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
    # the WAL is left as it is at exit (no checkpoint on close): fold it in before measuring
    sqlite3 "$OUT/store-ingest/meta.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
    meta=$(du -cb "$OUT"/store-ingest/meta.db* | tail -1 | cut -f1)
    bytes=$(stat -c %s "$pcap")
    python3 - "$mix" "$recs" "$ts" "$ti" "$meta" "$bytes" <<'EOF'
import sys
mix, recs, ts, ti, meta, byt = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print("%-16s %10d %10.2f %9.2f %12.0f %12.2f %9.0f%% %12.0f %12.0f" % (
    mix, recs, ts, ti, recs / ti, byt * 8 / ti / 1e9, (ti / ts - 1) * 100, meta / recs, byt * 0.025 / recs))
EOF
    rm -rf "$OUT/store-ingest"
done
echo "store cost = ingest time / sessions time - 1 (goal < 30%); meta B/ses = meta.db bytes per session (Arkime: SPI ~ 2.5% of traffic)"
echo

[ "${STORE_QUERIES:-1}" = 0 ] && exit 0
STORE=$OUT/store-$N
if [ ! -f "$STORE/meta.db" ]; then
    tpl=$OUT/store-template
    rm -rf "$tpl" "$STORE"
    pcap=$OUT/realistic-$MB.pcap
    [ -f "$pcap" ] || "$GEN" --size-mb "$MB" --seed 1 --mix realistic --out "$pcap" --quiet
    "$VK" ingest --no-pcap --data "$tpl" "$pcap" 2>/dev/null
    say "building $STORE ($N sessions; minutes)"
    # shellcheck disable=SC2046
    cc -std=c17 -D_GNU_SOURCE -O2 -Isrc -o "$OUT/store_fill" bench/store_fill.c build/libvakt.a \
        $(pkg-config --cflags --libs libpcap libndpi libcrypto zlib libbrotlidec libzstd libxxhash libmagic jansson sqlite3 libmaxminddb libcurl gnutls) -lpthread -lm
    "$OUT/store_fill" "$tpl" "$STORE" "$N"
fi
recs=$("$VK" status --data "$STORE" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
echo "store of $recs sessions: $(du -sh "$STORE/meta.db" | cut -f1) meta.db"
ip=$("$VK" query --data "$STORE" --format jsonl --limit 1 '' | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["ip.src"])')
printf '%-70s %8s %8s\n' "command" "best s" "goal s"
t() { local goal=$1; shift; printf '%-70s %8.3f %8s\n' "$(echo "$*" | sed "s|$VK|vakt|; s|--data $STORE ||")" "$(best "$@")" "$goal"; }
t 1 "$VK" values --data "$STORE" --top 20 ip.src ip.dst port.dst service alias.host
t 1 "$VK" values --data "$STORE" --top 20 --where "service=dns" ip.src ip.dst port.dst service alias.host
t 1 "$VK" values --data "$STORE" --top 20 --where "ip.dst=10.1.0.0/16" ip.src ip.dst port.dst service alias.host
t 0.1 "$VK" query --data "$STORE" --format jsonl "ip.src=$ip"
t 0.1 "$VK" query --data "$STORE" --format jsonl "ip.src=$ip && service=tls"
t - "$VK" timeline --data "$STORE" --bucket 1d --where "ip.src=$ip"
