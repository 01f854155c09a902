#!/usr/bin/env bash
# The AI Runway container image, built with podman (scripts/podman.sh: all its state under ~/.cache/airunway).
#   scripts/image.sh build    build airunway:0.1.0 (IMAGE=name:tag to change), cached layers reused
#   scripts/image.sh bases    only make the local base images
# No container registry is needed: the bases are made here from Debian's packages with mmdebstrap (minbase, the
# machine's own apt sources) and `podman import`, keyed by their inputs, so they are made once. The Node.js base
# carries this machine's own Node.js. The build steps that reach the package registries get the host's CA bundle
# mounted (never copied into the image). With a registry, `podman build -t airunway .` uses the Containerfile's
# default public bases instead.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
scripts/setup-podman.sh
podman=scripts/podman.sh
cache="${AIRUNWAY_CACHE_DIR:-$HOME/.cache/airunway}/image"
mkdir -p "$cache"
IMAGE="${IMAGE:-airunway:$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)}"

. /etc/os-release
suite="$VERSION_CODENAME"
sources=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)
[ -n "$sources" ] || sources=/etc/apt/sources.list
# merged /usr without the usrmerge package (which would bring perl); no documentation, manuals or locales.
slim=(--variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr --aptopt='APT::Install-Recommends "false"'
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*')

# base NAME PACKAGES [EXTRA-KEY [mmdebstrap options...]]: the image localhost/airunway-base-NAME:KEY, made when missing.
base() {
  local name=$1 packages=$2 extra=$3; shift 3
  local key
  key=$( (echo "$suite $packages $extra"; printf '%s\n' "${slim[@]}" "$@"; cat "$sources"; mmdebstrap --version) \
         | sha256sum | cut -c1-12)
  local ref="localhost/airunway-base-$name:$key"
  if ! $podman image exists "$ref"; then
    echo "==> making the base image $ref (mmdebstrap $suite: $packages)" >&2
    local tar="$cache/base-$name-$key.tar"
    mmdebstrap --quiet "${slim[@]}" --include="$packages" "$@" "$suite" "$tar" "$sources" >&2
    $podman import --quiet --change 'CMD ["/bin/bash"]' "$tar" "$ref" >/dev/null
    rm -f "$tar"
  fi
  echo "$ref"
}

bases() {
  # The runtime keeps no package manager (apt goes once the packages are in) nor glibc's character set
  # converters (Python has its own codecs).
  PYTHON_IMAGE=$(base python "python3,ca-certificates" "" \
    --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/gconv/*' \
    --customize-hook='chroot "$1" dpkg --purge apt libapt-pkg6.0 >/dev/null')
  PYTHON_BUILD_IMAGE=$(base python-build "python3,python3-venv,ca-certificates" "")
  local node npm
  node=$(command -v node) npm=$(dirname "$(readlink -f "$(command -v npm)")")/..
  NODE_IMAGE=$(base node "ca-certificates" "$(node --version) $(npm --version)" \
    --customize-hook="copy-in $node /usr/local/bin" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\"" \
    --customize-hook="sync-in $(readlink -f "$npm") /usr/local/lib/node_modules/npm" \
    --customize-hook="ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\"")
}

build() {
  bases
  local revision source ca=()
  revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  source=$(git config --get remote.origin.url 2>/dev/null || echo unknown)
  [ -s /etc/ssl/certs/ca-certificates.crt ] && ca=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
  echo "==> building $IMAGE" >&2
  $podman build --pull=never --network=host --layers "${ca[@]}" \
    --build-arg NODE_IMAGE="$NODE_IMAGE" --build-arg PYTHON_BUILD_IMAGE="$PYTHON_BUILD_IMAGE" \
    --build-arg PYTHON_IMAGE="$PYTHON_IMAGE" \
    --build-arg VERSION="${IMAGE##*:}" --build-arg REVISION="$revision" --build-arg SOURCE="$source" \
    -f Containerfile -t "$IMAGE" . >&2
  # Untagged images (older builds', and the build stages' last layers, which later builds reuse) go after a week,
  # so that the cache does not grow without end.
  $podman image prune --force --filter until=168h >/dev/null
  echo "localhost/$IMAGE"
}

case "${1:-build}" in
  bases) bases; printf '%s\n' "$PYTHON_IMAGE" "$PYTHON_BUILD_IMAGE" "$NODE_IMAGE" ;;
  build) build ;;
  *) echo "usage: $0 [build|bases]" >&2; exit 2 ;;
esac
