#!/usr/bin/env bash
# Builds kubernetes/Dockerfile with podman for the Kubeflow rehearsal (make kubeflow-image):
#   IMAGE=localhost/transfer-pipeline:rehearsal kubernetes/rehearsal/build-image.sh
# The build reaches the package index as this machine's pip does: its pip settings and every path
# they name are mounted read-only, its PIP_* variables passed as build args. A host pip cache is
# mounted so a rebuild downloads nothing twice, and podman's layer cache keeps the dependency
# layer when only code changed. HOST_PIP_CACHE=DIR picks the cache (default: this machine's own).
set -euo pipefail

IMAGE=${IMAGE:-localhost/transfer-pipeline:rehearsal}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$HERE/containers.conf}
HOST_PIP_CACHE=${HOST_PIP_CACHE:-${PIP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pip}}
CACHE_IN_BUILD=/var/cache/host-pip  # where RUN steps see it; the Dockerfile only learns it by build arg

command -v podman >/dev/null || { echo "error: podman is missing; run: make podman" >&2; exit 1; }

# One build at a time on this machine: a second build (CI starts one in the background, then the
# rehearsal's `make kubeflow-rehearsal` asks for another) waits for the first and then takes every
# layer from its cache, where two at once would each install the 3 GB of packages.
LOCK=${IMAGE_BUILD_LOCK:-${TMPDIR:-/tmp}/transfer-pipeline-image-build.lock}
exec 9>"$LOCK"
if ! flock --nonblock 9; then
    echo "another image build holds $LOCK; waiting for it to finish"
    waited=$SECONDS
    flock 9
    echo "  waited $((SECONDS - waited)) s"
fi
"$HERE/build-base-image.sh"

# pip's config files (root's, as RUN steps run as root) and the CA store: a TLS-intercepting proxy's
# CA lives only in this machine's store, not in the image's ca-certificates.
declare -A mounts=(
    [/etc/pip.conf]=/etc/pip.conf [/etc/xdg/pip]=/etc/xdg/pip [/etc/ssl/certs]=/etc/ssl/certs
    [$HOME/.config/pip]=/root/.config/pip [$HOME/.pip]=/root/.pip
)
# Plus every local path those settings name (find-links folders, file:// indexes, cert and
# constraint files), at the same path. A simple index's pages link ../../files: mount its parent.
settings=$(cat /etc/pip.conf /etc/xdg/pip/pip.conf "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf" 2>/dev/null || true
           env | grep '^PIP_' | cut -d= -f2- || true)
for word in $(tr -s ' \t=,"'"'"'' '\n' <<<"$settings" | grep -E '^(file://|/)' | sort -u); do
    path=${word#file://}
    path=${path%/}
    if [[ ${path##*/} == simple ]]; then path=${path%/*}; fi
    if [[ -n $path ]]; then mounts[$path]=$path; fi
done
volumes=() mounted=() last=
for path in $(printf '%s\n' "${!mounts[@]}" | LC_ALL=C sort); do
    # a file inside a folder mounted already (PIP_CERT in /etc/ssl/certs) comes with it
    [[ -e $path && ! ( -n $last && $path == "$last"/* ) ]] || continue
    volumes+=(--volume "$path:${mounts[$path]}:ro") mounted+=("$path") last=$path
done
mkdir -p "$HOST_PIP_CACHE"
volumes+=(--volume "$HOST_PIP_CACHE:$CACHE_IN_BUILD")

# The PIP_* variables set here that the Dockerfile declares as ARG (others would only draw a
# warning); an empty PIP_NO_CACHE_DIR turns pip's cache on.
build_args=(--build-arg PIP_NO_CACHE_DIR= --build-arg "PIP_CACHE_DIR=$CACHE_IN_BUILD")
for name in $(sed -n 's/^ARG \(PIP_[A-Z_]*\).*/\1/p' "$REPO/kubernetes/Dockerfile"); do
    if [[ $name != PIP_CACHE_DIR && $name != PIP_NO_CACHE_DIR && -n ${!name:-} ]]; then
        build_args+=(--build-arg "$name=${!name}")
    fi
done
common=(--network=host --layers --file "$REPO/kubernetes/Dockerfile"
        --ignorefile "$REPO/kubernetes/Dockerfile.dockerignore" "${build_args[@]}")
build_stage=$IMAGE
[[ ${IMAGE##*/} == *:* ]] || build_stage+=:latest
build_stage+=-build

# Two passes, because podman's --volume reaches every RUN step and leaves an empty mount point
# for each path in that step's layer (an empty /etc/pip.conf, /opt/wheels, ...). The build stage,
# the only one that installs, gets the mounts; the final stage is then built without them and
# takes the build stage from the layer cache. The build stage keeps its tag so that
# `podman image prune` leaves the next build its cache.
started=$SECONDS
echo "pass 1/2: build stage of $REPO/kubernetes/Dockerfile as $build_stage (cold: 3 GB of packages and the weights)"
echo "  pip cache: $HOST_PIP_CACHE; mounted read-only: ${mounted[*]}"
podman build "${common[@]}" "${volumes[@]}" --target build --tag "$build_stage" "$REPO"
echo "pass 2/2: final stage as $IMAGE"
podman build "${common[@]}" --tag "$IMAGE" "$REPO"
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
digest=$(podman image inspect --format '{{.Digest}}' "$IMAGE")
repository=$IMAGE  # IMAGE without its tag; a registry's port (host:5000/name) is not a tag
if [[ ${IMAGE##*/} == *:* ]]; then repository=${IMAGE%:*}; fi
echo "built $IMAGE in $((SECONDS - started)) s"
echo "image: $IMAGE  digest: $digest  size: $(awk -v bytes="$size" 'BEGIN { printf "%.2f GB", bytes / 1e9 }')"
# By digest, KFP's cache key changes with every build; by tag it does not (kubernetes/README.md).
# A push to a registry may store another digest (layers compressed anew): compile with the one it reports.
echo "compile with: --image $repository@$digest"
echo "run it as the rehearsal does: CONTAINERS_CONF=$CONTAINERS_CONF podman run --rm --user 10001:10001 --network=none $IMAGE"
