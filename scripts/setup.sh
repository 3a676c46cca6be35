#!/usr/bin/env bash
# Set up everything the call center needs on a fresh Debian machine, idempotently:
# system packages (apt), the Python environment (uv, from uv.lock), the front-end bundle
# (npm, from web/package-lock.json) and the Go-built servers (livekit-server, MinIO).
#
#   scripts/setup.sh            # everything
#   SETUP_SKIP_BINARIES=1 ...   # skip the Go builds (core development only)
set -euo pipefail
cd "$(dirname "$0")/.."

# festival and its US SLT voice: a caller voice for the speech-to-text tests, not the agent's
# festvox-kallpc16k and festvox-kdlpc16k: held-out caller voices for `callcenter bench understanding`
# redis-server and nginx-light: the cluster of `callcenter up --nodes N` (LiveKit's shared
# state, and the reverse proxy in front of the web processes)
APT_PACKAGES=(espeak-ng sox chromium ffmpeg libportaudio2 festival festvox-us-slt-hts
    festvox-kallpc16k festvox-kdlpc16k redis-server nginx-light)

step() { printf '\n==> %s\n' "$*"; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    step "installing system packages: ${missing[*]}"
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! python3 -m uv --version >/dev/null 2>&1; then
    step "installing uv"
    python3 -m pip install -q --disable-pip-version-check "uv==0.13.9"
fi
step "Python environment (uv sync --frozen)"
python3 -m uv sync --frozen

if [[ -f web/package-lock.json ]]; then
    step "front-end bundle (npm ci && npm run build)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
fi

if [[ -z "${SETUP_SKIP_BINARIES:-}" ]]; then
    step "livekit-server and MinIO (go install, cached in ~/.cache/callcenter/bin)"
    scripts/install-binaries.sh
fi
