#!/usr/bin/env bash
# intel.sh — threat-intel enrichment measured (bench/intel.c): load time, lookups per
# CPU-second on one core and memory per indicator for N mixed indicators, side by side with
# a naive sorted-array baseline in the same run; then the cost of vk_enrich_apply on the
# packet path (64 MiB "realistic" capture, sessions formatted as JSON lines, with and
# without enrichment against maltrail's trails + the MISP warninglists + a STIX bundle +
# assets + geo/ASN).
#
#   bench/intel.sh                 N=5000000, build dir ./build (B=build-NAME to change)
#   INTEL_N=1000000 bench/intel.sh
#
# Rates are per CPU-second of this thread (CLOCK_THREAD_CPUTIME_ID): the bench machine is
# shared, and wall time would count other people's work.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
N=${INTEL_N:-5000000}
CPU=${BENCH_CPU:-1}
VAKT=${VAKT:-$B/vakt}
[ "$B" = build ] && [ ! -x "$VAKT" ] && VAKT=./vakt
OUT=${INTEL_OUT:-/tmp/vakt-bench-intel}
PK="libpcap libndpi libcrypto zlib libbrotlidec libzstd libxxhash libmagic jansson sqlite3 libmaxminddb libcurl gnutls"
[ -f "$B/libvakt.a" ] || { echo "intel.sh: $B/libvakt.a missing: make B=$B $B/vakt first" >&2; exit 2; }
[ -x "$VAKT" ] || { echo "intel.sh: $VAKT missing" >&2; exit 2; }
mkdir -p "$OUT"
# shellcheck disable=SC2046
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Wno-unused-parameter $(pkg-config --cflags $PK) -Isrc \
   -o "$OUT/intel" bench/intel.c "$B/libvakt.a" $(pkg-config --libs $PK) -lpthread -lm

echo "== matcher: $N mixed indicators"
taskset -c "$CPU" "$OUT/intel" match "$N"

echo "== packet path: enrichment cost"
PCAP=$OUT/realistic-64.pcap
[ -f "$PCAP" ] || ../shared/tools/make-bench-pcap --size-mb 64 --seed 1 --mix realistic --out "$PCAP" >/dev/null
C=../shared/corpus/intel
D=$OUT/data
rm -rf "$D"
"$VAKT" intel add --data "$D" maltrail "$C/maltrail/trails/static" --format list >/dev/null
"$VAKT" intel add --data "$D" warninglists "$C/misp-warninglists/lists" --format warninglist >/dev/null
"$VAKT" intel add --data "$D" apt1 "$C/stix2/examples/threat-reports/apt1.json" --format stix >/dev/null
printf 'cidr,name,criticality\n10.0.0.0/8,lan,3\n192.168.0.0/16,office,2\n' > "$OUT/assets.csv"
"$VAKT" assets import --data "$D" "$OUT/assets.csv" >/dev/null
taskset -c "$CPU" "$OUT/intel" pcap "$PCAP" "$D"
