#!/usr/bin/env bash
# Installs the Debian packages the test suite drives as real peers, when they are missing.
# Needs root (or passwordless sudo) only when something has to be installed.
set -euo pipefail
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "test setup: installing ${need[*]} from Debian" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
