#!/bin/sh
# fetch-zydis.sh - Zydis (decoder and formatter) and Zycore's headers for the console's `u`,
# fetched as Debian's source packages with apt-get source and a private apt state in DIR, so the
# machine's apt configuration is neither read for sources nor changed, and nothing needs root.
# Usage: tools/fetch-zydis.sh DIR   (leaves DIR/zydis and DIR/zycore, the upstream trees)
# Offline: put the two .orig.tar.gz files named below in DIR and run it again.
set -eu

dir=$1
suite=trixie # Debian 13: Zydis 4 (bookworm has 3.2)
zydis=4.1.1-1
zycore=1.5.2-1
# The upstream tarballs' SHA-256, as trixie's Sources index lists them (apt-cache showsrc).
zydis_sha=dcc31180a31e7f568d79d55f8181bd961981559a5666bf6fac43a69ad8b406bf
zycore_sha=828f2e2e502c4a339c53162b865afd13de80fdfa068a9ba18032e743243027ea
zydis_tar=zydis_${zydis%-*}.orig.tar.gz
zycore_tar=zycore-c_${zycore%-*}.orig.tar.gz

stamp="$dir/versions" # what the unpacked trees are; another pin here unpacks again
[ "$(cat "$stamp" 2>/dev/null)" = "zydis $zydis zycore $zycore" ] && exit 0

mkdir -p "$dir"
apt="$(cd "$dir" && pwd)/apt" # apt takes Dir:: paths relative to its root (/): make them absolute
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    > "$apt/sources.list"
# Every file apt reads or writes for sources is ours (apt.conf(5), Dir::); status empty: no dpkg.
set -- -o "Dir::State=$apt" -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=/dev/null" \
    -o "Dir::Cache=$apt/cache" -o "Dir::Etc::sourcelist=$apt/sources.list" \
    -o "Dir::Etc::sourceparts=/dev/null" -o "APT::Sandbox::User=$(id -un)"

fetched() { echo "$zydis_sha  $dir/$zydis_tar" | sha256sum -c --status 2>/dev/null &&
    echo "$zycore_sha  $dir/$zycore_tar" | sha256sum -c --status 2>/dev/null; }

if ! fetched; then
    echo "irqlab: fetching Zydis $zydis and Zycore $zycore (Debian $suite source packages) into $dir"
    apt-get -q "$@" update >"$apt/fetch.log" 2>&1 || true
    # --download-only: only the upstream tarballs are used (no dpkg-source, no Debian patches);
    # apt checks each file against the signed index; a mirror that lacks the .dsc fails this
    # command but not the checksums below, which are what counts.
    ls "$apt"/lists/*Sources* >/dev/null 2>&1 &&
        (cd "$dir" && apt-get -q "$@" source --download-only "zydis=$zydis" "zycore-c=$zycore") \
            >>"$apt/fetch.log" 2>&1 || true
fi
if ! fetched; then
    grep -E '^(E|W|Err):' "$apt/fetch.log" | head -5 >&2
    echo "irqlab: could not fetch Zydis from Debian (offline, or deb.debian.org unreachable?). When online run" >&2
    echo "    sh tools/fetch-zydis.sh $dir" >&2
    echo "or put $zydis_tar and $zycore_tar (from any Debian mirror's pool/main/z/) in $dir and run make again." >&2
    exit 1
fi
rm -rf "$dir/zydis" "$dir/zycore"
mkdir -p "$dir/zydis" "$dir/zycore"
tar -xzf "$dir/$zydis_tar" -C "$dir/zydis" --strip-components=1
tar -xzf "$dir/$zycore_tar" -C "$dir/zycore" --strip-components=1
echo "zydis $zydis zycore $zycore" > "$stamp"
rm -rf "$apt/lists" # 20 MB of index, needed only to fetch again
echo "irqlab: Zydis ${zydis%-*} ready in $dir/zydis"
