#!/usr/bin/env bash
# The whole suite inside one Secret Service session: Vitest (unit, interop, integration), then
# Playwright (the renderer end to end through the browser host). Both run even if the first
# fails; the exit status is non-zero if either did.
set -uo pipefail
status=0
vitest run || status=1
playwright test || status=1
exit $status
