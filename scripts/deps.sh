#!/bin/sh
# deps.sh — install every Debian package vakt's build, tests, fuzzing and benchmarks need.
# Idempotent and non-interactive: packages already present are skipped by apt-get.
# npm (for the geo/ASN data below): a machine with NodeSource's nodejs has it already
# (Debian's npm package conflicts with that one); elsewhere Debian's npm (and its nodejs)
# is installed with the rest, after the same apt-get update.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-14-dev llvm
libpcap-dev libndpi-dev libssl-dev zlib1g-dev libbrotli-dev libzstd-dev libxxhash-dev
libsqlite3-dev libcurl4-openssl-dev libmicrohttpd-dev libgnutls28-dev libjansson-dev
libyaml-dev libyara-dev libmagic-dev libmaxminddb-dev libsodium-dev libcmocka-dev
python3 python3-pytest tcpreplay tshark iproute2 procps libndpi-bin argus-server tcpdump
time util-linux linux-perf rsyslog sqlite3 bc zstd"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if ! command -v npm >/dev/null 2>&1 && ! dpkg-query -W -f='${Version}' nodejs 2>/dev/null | grep -q nodesource; then
    missing="$missing npm"
fi
if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Geo and ASN data for enrichment (src/enrich): the @ip-location-db npm packages, country
# mmdb (CC0) and ASN ranges (CC-BY-4.0), into $VAKT_GEO_DIR (default ~/.cache/vakt/geo,
# where vakt looks for them). Idempotent: skipped when both packages are there.
GEO_DIR=${VAKT_GEO_DIR:-${HOME:-/root}/.cache/vakt/geo}
if [ ! -f "$GEO_DIR/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb" ] ||
   [ ! -f "$GEO_DIR/node_modules/@ip-location-db/asn/asn-ipv4.csv" ]; then
    if command -v npm >/dev/null 2>&1; then
        echo "deps: installing geo/ASN data into $GEO_DIR"
        mkdir -p "$GEO_DIR"
        npm install --prefix "$GEO_DIR" --no-audit --no-fund --silent \
            @ip-location-db/geo-whois-asn-country-mmdb @ip-location-db/asn ||
            echo "deps: geo/ASN data not installed (npm failed); enrichment runs without country/ASN"
    else
        echo "deps: npm not found: geo/ASN data not installed; enrichment runs without country/ASN"
    fi
fi
