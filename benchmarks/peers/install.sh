#!/usr/bin/env bash
# Installs the peer tools the long benchmarks compare against, from Debian (apt), never a
# download at run time: coccinelle (spatch) and clangd. Idempotent; not run by .ci/run.
set -euo pipefail
missing=()
command -v spatch >/dev/null 2>&1 || missing+=(coccinelle)
command -v clangd >/dev/null 2>&1 || missing+=(clangd)
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
spatch --version | head -1
clangd --version | head -1
