#!/usr/bin/env bash
# Build and cache the third-party server binaries the call center needs for
# local development and integration tests, using only Go's own toolchain
# (module proxy) -- no prebuilt downloads.
#
#   scripts/install-binaries.sh            # livekit-server + minio
#
# Binaries are cached OUTSIDE the repository, in
#   ${CALLCENTER_BIN_DIR:-$HOME/.cache/callcenter/bin}
# next to a stamp file "<name>.version" holding the module@version it was
# built from; a binary whose stamp matches is not rebuilt. Go's module and
# build caches stay in their default places ($GOMODCACHE, $GOCACHE).
#
# Requires: Go >= 1.26 (livekit-server v1.13.5 says `go 1.26`), on PATH or
# at /usr/local/go/bin/go. Built and checked with go1.26.8.
#
# LiveKit Egress is deliberately NOT built here: the Go module proxy this
# project can reach refuses github.com/livekit/egress source (v1.13.0 .zip
# -> 403 "This module version is not available"; v1.14.x .info -> 403) and
# some of its dependencies too (server-sdk-go/v2, media-sdk, storage
# pseudo-versions -> 403). Its go.mod also has replace directives, so it
# could never be built with `go install module@version` anyway.
set -euo pipefail

LIVEKIT_MODULE="github.com/livekit/livekit-server/cmd/server"
LIVEKIT_VERSION="v1.13.5"
# minio publishes no semver tags on the Go proxy, only pseudo-versions; this
# one is what `go install github.com/minio/minio@latest` resolved to, pinned
# for reproducibility.
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

BIN_DIR="${CALLCENTER_BIN_DIR:-$HOME/.cache/callcenter/bin}"

if ! command -v go >/dev/null 2>&1; then
    if [[ -x /usr/local/go/bin/go ]]; then
        export PATH="/usr/local/go/bin:$PATH"
    else
        echo "error: go not found (need Go >= 1.25)" >&2
        exit 1
    fi
fi

mkdir -p "$BIN_DIR"
TMP_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/callcenter-bin.XXXXXX")"
trap 'rm -rf "$TMP_ROOT"' EXIT

# install_go_binary NAME MODULE_PATH VERSION CGO [extra go flags...]
#   Builds MODULE_PATH@VERSION with `go install` into a temp GOBIN and moves
#   the result to $BIN_DIR/NAME, writing $BIN_DIR/NAME.version.
install_go_binary() {
    local name="$1" module="$2" version="$3" cgo="$4"
    shift 4
    local want="${module}@${version}"
    local dest="$BIN_DIR/$name" stamp="$BIN_DIR/$name.version"

    if [[ -x "$dest" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "$name $version already installed: $dest (skipping)"
        return 0
    fi

    echo "building $name $version (takes a few minutes)..."
    local gobin="$TMP_ROOT/$name"
    mkdir -p "$gobin"
    local start=$SECONDS
    (
        # run outside any module so `go install pkg@version` is used as-is
        cd "$TMP_ROOT"
        GOBIN="$gobin" \
        CGO_ENABLED="$cgo" \
        GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath" \
        GOTOOLCHAIN=local \
            go install "$@" "$want"
    )
    local built
    built="$(find "$gobin" -maxdepth 1 -type f -perm -u+x | head -n 1)"
    if [[ -z "$built" ]]; then
        echo "error: go install $want produced no binary" >&2
        exit 1
    fi
    rm -f "$stamp"
    mv -f "$built" "$dest"
    echo "$want" >"$stamp"
    echo "built $name in $((SECONDS - start))s: $dest"
}

install_go_binary livekit-server "$LIVEKIT_MODULE" "$LIVEKIT_VERSION" 0
install_go_binary minio "$MINIO_MODULE" "$MINIO_VERSION" 0

echo
echo "binaries in $BIN_DIR:"
echo "  livekit-server: $BIN_DIR/livekit-server"
echo "  minio:          $BIN_DIR/minio"
