#!/usr/bin/env bash
# The whole suite inside one Secret Service session: Vitest (unit, interop, integration), then
# Playwright (the renderer end to end through the browser host). Both run even if the first
# fails; the exit status is non-zero if either did.
set -uo pipefail
status=0
# Most tests start the CLI and its programs as child processes (Node 24 stripping types on every
# start). Node's compile cache, in a directory of this run only, spares each later start the
# compilation the first one did (about a quarter of a start's CPU, measured on these machines).
cache_dir=$(mktemp -d)
trap 'rm -rf "$cache_dir"' EXIT
export NODE_COMPILE_CACHE="$cache_dir"
vitest run || status=1
playwright test || status=1
exit $status
