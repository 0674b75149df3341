#!/usr/bin/env bash
# Benchmarks debclosure on the real Debian bookworm main amd64 index, each
# figure against a peer run in the same invocation on the same files:
#   parse+index of Packages        vs  cat Packages > /dev/null
#   decompress+parse of Packages.xz vs  xz -T0 -dc Packages.xz > /dev/null
#   resolve of the common request   vs  apt-get install -s (apt's cache built)
#   peak memory of resolve (RSS)
#   cold fetch+verify+decompress+parse  vs  curl + xz -T0 -dc of the same file
#   warm-cache resolve (online sources)  vs  apt-get install -s
#   warm lock and check of examples/bookworm  vs  apt-get install -s
#   peak memory (RSS) of every debclosure path, next to apt's (the first
#   run after a download, which builds the compact index, included)
# The index comes from $DEBCLOSURE_BENCH_DIR (Packages.xz there), else it is
# downloaded from $DEBCLOSURE_MIRROR, else from the first Debian mirror in the
# machine's apt sources. Usage: bench/run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}

command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
work=${DEBCLOSURE_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/debclosure-bench}
mkdir -p "$work"
mirror=${DEBCLOSURE_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
if [ ! -s "$work/Packages.xz" ]; then
    curl -sSf -o "$work/Packages.xz.part" "$mirror/dists/bookworm/main/binary-amd64/Packages.xz"
    mv "$work/Packages.xz.part" "$work/Packages.xz"
fi
[ -s "$work/Packages" ] || xz -dc "$work/Packages.xz" > "$work/Packages"

cargo build --release --locked -q
bin=target/release/debclosure
request=$(grep -v '^#' examples/common-debian.txt | tr '\n' ' ')

# apt with its own root over the same index, cache built before timing.
# What one run writes is its own: runs sharing $DEBCLOSURE_BENCH_DIR (several
# people on one machine) must not delete each other's apt root or lock.
run=$(mktemp -d "$work/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
chmod 755 "$run"  # apt reads its lists as the _apt user
aptroot="$run/aptroot"
mkdir -p "$aptroot"/{repo,etc/apt/sources.list.d,etc/apt/apt.conf.d,etc/apt/preferences.d,var/lib/dpkg,var/lib/apt/lists/partial,var/cache/apt/archives/partial}
cp "$work/Packages" "$aptroot/repo/Packages"
: > "$aptroot/var/lib/dpkg/status"
echo "deb [trusted=yes] file:$aptroot/repo ./" > "$aptroot/etc/apt/sources.list"
# apt as its users run it: with its binary caches (pkgcache.bin,
# srcpkgcache.bin) built by `update` and reused. The machine's own apt.conf.d
# is not read: container images often disable those caches there
# (Dir::Cache::pkgcache ""), which makes apt rebuild them on every call.
apt=(apt-get -q -o "Dir=$aptroot" -o "Dir::State::status=$aptroot/var/lib/dpkg/status"
     -o "Dir::Etc::Parts=$aptroot/etc/apt/apt.conf.d" -o "Dir::Cache=$aptroot/var/cache/apt"
     -o Dir::Cache::pkgcache=pkgcache.bin -o Dir::Cache::srcpkgcache=srcpkgcache.bin
     -o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Debug::NoLocking=1
     -o "Dir::Etc::SourceParts=$aptroot/etc/apt/sources.list.d")
"${apt[@]}" update >/dev/null
"${apt[@]}" install -s --no-install-recommends $request >/dev/null
for cache in pkgcache.bin srcpkgcache.bin; do
    [ -s "$aptroot/var/cache/apt/$cache" ] || { echo "apt did not keep $cache: the peer would be handicapped" >&2; exit 2; }
done
# The same apt without its caches, printed for comparison only.
apt_nocache=("${apt[@]}" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)

# Median wall time in milliseconds of a command over $runs runs.
median_ms() {
    local times=() start end
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        "$@" >/dev/null
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}
peak_mb() {
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1 / 1024}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

a_ours=$(median_ms "$bin" stats --arch amd64 --packages-file "$work/Packages")
a_peer=$(median_ms cat "$work/Packages")
b_ours=$(median_ms "$bin" stats --arch amd64 --packages-file "$work/Packages.xz")
b_peer=$(median_ms xz -T0 -dc "$work/Packages.xz")
c_ours=$(median_ms "$bin" resolve --arch amd64 --packages-file "$work/Packages" $request)
c_peer=$(median_ms "${apt[@]}" install -s --no-install-recommends $request)
c_nocache=$(median_ms "${apt_nocache[@]}" install -s --no-install-recommends $request)
m_apt=$(peak_mb "${apt[@]}" install -s --no-install-recommends $request)
m_plain=$(peak_mb "$bin" resolve --arch amd64 --packages-file "$work/Packages" $request)
m_xz=$(peak_mb "$bin" resolve --arch amd64 --packages-file "$work/Packages.xz" $request)

# Online: the same index through the fetch pipeline (mirror from the apt sources).
online=(--arch amd64 --mirror "$mirror" --suite bookworm --quiet
        --keyring /usr/share/keyrings/debian-archive-keyring.gpg)
# Each run gets an empty cache; removing the caches (50 MB each) is not
# part of what a user waits for, so it happens after the timing.
cold="$work/cold-caches"
rm -rf "$cold"
mkdir -p "$cold"
cold_fetch() { "$bin" stats "${online[@]}" --cache-dir "$(mktemp -d -p "$cold")"; }
curl_xz() { curl -sSf "$mirror/dists/bookworm/main/binary-amd64/Packages.xz" | xz -T0 -dc; }
d_ours=$(median_ms cold_fetch)
d_peer=$(median_ms curl_xz)
rm -rf "$cold"
warm="$work/warm-cache"
"$bin" stats "${online[@]}" --cache-dir "$warm" >/dev/null
e_ours=$(median_ms "$bin" resolve "${online[@]}" --cache-dir "$warm" $request)
e_off=$(median_ms "$bin" resolve "${online[@]}" --cache-dir "$warm" --offline $request)
m_warm=$(peak_mb "$bin" resolve "${online[@]}" --cache-dir "$warm" $request)
m_stats=$(peak_mb "$bin" stats --arch amd64 --packages-file "$work/Packages")
# The first run after a download builds the compact form from the cached text.
cp -r "$warm" "$run/compacting"
rm -rf "$run/compacting/compact-v1"
m_first=$(peak_mb "$bin" resolve "${online[@]}" --cache-dir "$run/compacting" --offline $request)
rm -rf "$run/compacting"

# The shipped example (bookworm and bookworm-updates) locked through the same
# warm cache and mirror, and the lock checked against the indices it pins.
spec=examples/bookworm/debclosure.toml
lock=(lock --spec "$spec" -o "$run/bench.lock" --quiet --mirror "$mirror" --cache-dir "$warm"
      --keyring /usr/share/keyrings/debian-archive-keyring.gpg)
check=(check --lock "$run/bench.lock" --spec "$spec" --quiet --cache-dir "$warm")
# Both print a line on success; show their stderr only when they fail.
quietly() { "$@" 2>"$run/stderr" || { cat "$run/stderr" >&2; return 1; }; }
quietly "$bin" "${lock[@]}"
f_lock=$(median_ms quietly "$bin" "${lock[@]}")
f_check=$(median_ms quietly "$bin" "${check[@]}")
m_lock=$(peak_mb "$bin" "${lock[@]}")
m_check=$(peak_mb "$bin" "${check[@]}")

echo "debclosure benchmark: bookworm main amd64, $(nproc) cores, median of $runs runs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %8s %8s\n' "measure" "ours" "peer" "ratio"
printf '%-44s %6sms %6sms %7sx\n' "(a) parse+index Packages vs cat" "$a_ours" "$a_peer" "$(ratio "$a_ours" "$a_peer")"
printf '%-44s %6sms %6sms %7sx\n' "(b) xz+parse+index vs xz -T0 -dc" "$b_ours" "$b_peer" "$(ratio "$b_ours" "$b_peer")"
printf '%-44s %6sms %6sms %7sx\n' "(c) resolve vs apt-get install -s" "$c_ours" "$c_peer" "$(ratio "$c_peer" "$c_ours")"
printf '%-44s %6sms\n' "    (apt without its pkgcache.bin: not the peer)" "$c_nocache"
printf '%-44s %6sMB\n' "peak RSS, resolve from Packages" "$m_plain"
printf '%-44s %6sMB\n' "peak RSS, apt-get install -s (caches built)" "$m_apt"
printf '%-44s %6sMB\n' "peak RSS, resolve from Packages.xz" "$m_xz"
printf '%-44s %6sms %6sms %7sx\n' "(d) cold fetch+verify+parse vs curl|xz -T0" "$d_ours" "$d_peer" "$(ratio "$d_ours" "$d_peer")"
printf '%-44s %6sms %6sms %7sx\n' "(e) warm resolve vs apt-get install -s" "$e_ours" "$c_peer" "$(ratio "$c_peer" "$e_ours")"
printf '%-44s %6sms %6sms %7sx\n' "(e') warm --offline resolve vs apt" "$e_off" "$c_peer" "$(ratio "$c_peer" "$e_off")"
printf '%-44s %6sMB\n' "peak RSS, warm resolve" "$m_warm"
printf '%-44s %6sms %6sms %7sx\n' "(f) warm lock examples/bookworm vs apt" "$f_lock" "$c_peer" "$(ratio "$c_peer" "$f_lock")"
printf '%-44s %6sms %6sms %7sx\n' "(f') warm check of that lock vs apt" "$f_check" "$c_peer" "$(ratio "$c_peer" "$f_check")"
printf '%-44s %6sMB %6sMB\n' "peak RSS, warm lock / check" "$m_lock" "$m_check"
printf '%-44s %6sMB\n' "peak RSS, parse+index Packages (a)" "$m_stats"
printf '%-44s %6sMB\n' "peak RSS, first run building the compact form" "$m_first"
echo "(c), (e) and (f) ratios are apt / ours (higher is better); (a), (b) and (d) are ours / peer."
echo "peak RSS of apt-get install -s (caches built), the peer of every RSS line: ${m_apt}MB"
