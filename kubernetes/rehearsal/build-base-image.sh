#!/usr/bin/env bash
# Builds a local stand-in for kubernetes/Dockerfile's base image, python:3.10.13-slim-bookworm,
# where Docker Hub cannot be reached: Debian bookworm (debootstrap, from this machine's own apt
# mirror) plus this machine's pyenv Python 3.10 in /usr/local, imported under the official tag so
# the Dockerfile's FROM resolves with no pull. Does nothing when an image of that tag exists.
#   kubernetes/rehearsal/build-base-image.sh        (root; `make podman` installs what it needs)
# MIRROR=URI and PYTHON_HOME=DIR override what is read from the machine.
set -euo pipefail

BASE_IMAGE=docker.io/library/python:3.10.13-slim-bookworm
HERE=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$HERE/containers.conf}

fail() { echo "error: $*" >&2; exit 1; }

if podman image exists "$BASE_IMAGE"; then
    echo "base image $BASE_IMAGE: present (podman rmi it to rebuild)"
    exit 0
fi
[[ $EUID -eq 0 ]] || fail "debootstrap and chroot need root; run as root"
command -v debootstrap >/dev/null || fail "debootstrap is missing; run: make podman"

# The Debian mirror this machine's apt already uses (the stanza serving suite `bookworm`), read at
# run time so no mirror URL lives in the repository.
debian_mirror() {
    awk -v RS= '/(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ {
        if (match($0, /(^|\n)URIs:[ \t]*[^ \t\n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/.*URIs:[ \t]*/, "", u); print u; exit }
    }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    awk '$1 == "deb" { for (i = 2; i < NF; i++) if ($i ~ /:\/\//) { if ($(i + 1) == "bookworm") { print $i; exit } break } }' \
        /etc/apt/sources.list 2>/dev/null || true
}
MIRROR=${MIRROR:-$(debian_mirror | head -n 1)}
[[ -n $MIRROR ]] || fail "no Debian bookworm mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; pass MIRROR=http://deb.debian.org/debian"

# The interpreter: pyenv's 3.10 install, found as the Makefile finds it.
PYTHON_HOME=${PYTHON_HOME:-$(for d in "$HOME"/.pyenv/versions/3.10*; do
    if [[ -x $d/bin/python3.10 ]]; then echo "$d"; break; fi; done)}
[[ -n $PYTHON_HOME && -x $PYTHON_HOME/bin/python3.10 ]] \
    || fail "no Python 3.10 under $HOME/.pyenv/versions/3.10*; run: pyenv install 3.10.13, or pass PYTHON_HOME=DIR (a prefix holding bin/python3.10)"
version=$("$PYTHON_HOME/bin/python3.10" -c 'import platform; print(platform.python_version())')
[[ $version == 3.10.13 ]] || echo "warning: $PYTHON_HOME is Python $version, not 3.10.13; the stand-in carries it anyway" >&2

WORK=$(mktemp -d /var/tmp/python-base.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ROOTFS=$WORK/rootfs
started=$SECONDS

# The runtime libraries Python's extension modules link against, and what the official slim
# image has besides: CA certificates, netbase, tzdata, and `passwd` (groupadd/useradd).
echo "[1/4] debootstrap bookworm (minbase) from the machine's Debian mirror into $ROOTFS (about 40 s)"
debootstrap --variant=minbase \
    --include=libssl3,libffi8,libsqlite3-0,zlib1g,libbz2-1.0,liblzma5,libreadline8,libncursesw6,libuuid1,libgdbm6,libgdbm-compat4,libnsl2,ca-certificates,netbase,tzdata,passwd \
    bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log" >&2; fail "debootstrap from $MIRROR failed (log above)"; }
# apt in the image uses this machine's Debian sources (updates and security included): its
# deb822 files signed by Debian's keyring, which the image has, and any sources.list.
mapfile -t debian_sources < <(grep -l debian-archive-keyring /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if (( ${#debian_sources[@]} )); then
    rm -f "$ROOTFS/etc/apt/sources.list"
    cp "${debian_sources[@]}" "$ROOTFS/etc/apt/sources.list.d/"
fi
if [[ -f /etc/apt/sources.list ]]; then cp /etc/apt/sources.list "$ROOTFS/etc/apt/"; fi
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/*

# As the official image does: no test suites, bytecode or static libpython. Site-packages is
# rebuilt by ensurepip (pip, setuptools) so nothing installed on this machine rides along and
# pip's scripts get a shebang that exists in the image.
echo "[2/4] copying Python $version from $PYTHON_HOME into /usr/local"
tar -C "$PYTHON_HOME" -cf - --exclude=./lib/python3.10/site-packages --exclude=./lib/python3.10/test \
    --exclude=__pycache__ --exclude='libpython*.a' --exclude='./bin/pip*' . | tar -C "$ROOTFS/usr/local" -xf -
mkdir -p "$ROOTFS/usr/local/lib/python3.10/site-packages"
ln -sfn python3 "$ROOTFS/usr/local/bin/python"
# pyenv's RUNPATH names its own folder; without the cache: "libpython3.10.so.1.0: cannot open".
chroot "$ROOTFS" ldconfig
# (ensurepip drops PIP_* variables, so its "running pip as root" warning is silenced by redirection.)
chroot "$ROOTFS" /usr/local/bin/python3.10 -m ensurepip --default-pip >"$WORK/ensurepip.log" 2>&1 \
    || { cat "$WORK/ensurepip.log" >&2; fail "ensurepip failed in the image (log above)"; }
find "$ROOTFS/usr/local" -name __pycache__ -prune -exec rm -rf {} +
missing=$(chroot "$ROOTFS" sh -c 'ldd /usr/local/lib/python3.10/lib-dynload/*.so' 2>&1 | grep 'not found' | grep -v 'libt[ck]' || true)
[[ -z $missing ]] || fail "Python extension modules need libraries the image lacks (add their packages to --include):
$missing"
chroot "$ROOTFS" /usr/local/bin/python3 -c 'import ssl, sqlite3, lzma, bz2, zlib, ctypes, uuid, readline, venv' \
    || fail "the copied Python cannot import its standard modules in the image (see above)"

echo "[3/4] packing the root filesystem"
tar -C "$ROOTFS" --numeric-owner -cf "$WORK/base.tar" .

echo "[4/4] importing it as $BASE_IMAGE"
podman import --quiet \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "ENV PYTHON_VERSION=$version" \
    --change 'LABEL org.opencontainers.image.description="local stand-in for python:3.10.13-slim-bookworm (kubernetes/rehearsal/build-base-image.sh)"' \
    --change 'CMD ["python3"]' \
    "$WORK/base.tar" "$BASE_IMAGE" >/dev/null
size=$(podman image inspect --format '{{.Size}}' "$BASE_IMAGE")
echo "built $BASE_IMAGE in $((SECONDS - started)) s ($((size / 1000000)) MB)"
