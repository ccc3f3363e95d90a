#!/usr/bin/env bash
# Usage: bash test/setup/with-secret-service.sh CMD [ARGS...]
#
# Runs CMD against a private, real Secret Service (DESIGN.md section 5): a fresh session bus from
# dbus-run-session, gnome-keyring-daemon's secrets component with an unlocked login collection, and
# HOME plus the XDG data/config/runtime directories in a temporary directory, so the station's own
# keychain is never touched. Exits with CMD's status and removes the temporary directory.
# CMD sees DESKKMS_TEST_SECRET_SERVICE=1; tests that write to the keychain refuse to run without it.
set -euo pipefail

# The login collection is created (and unlocked) only for a non-empty password.
LOGIN_PASSWORD='deskkms-test-login'
SECRETS_NAME='org.freedesktop.secrets'

secrets_owner_pid() {
  local reply
  reply=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetConnectionUnixProcessID "string:$SECRETS_NAME" 2>/dev/null) || return 1
  reply=${reply##* }
  [[ $reply =~ ^[0-9]+$ ]] || return 1
  printf '%s' "$reply"
}

if [ "${1:-}" = "--in-session" ]; then
  shift
  daemon_env=$(printf '%s' "$LOGIN_PASSWORD" | gnome-keyring-daemon --daemonize --unlock --components=secrets)
  # It prints the variables a client needs (GNOME_KEYRING_CONTROL=..., nothing when the control
  # socket is in the default place under XDG_RUNTIME_DIR).
  while IFS= read -r line; do
    if [[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then export "${line?}"; fi
  done <<<"$daemon_env"
  pid=""
  for _ in $(seq 100); do
    if pid=$(secrets_owner_pid); then break; fi
    pid=""
    sleep 0.05
  done
  if [ -z "$pid" ]; then
    echo "with-secret-service: gnome-keyring-daemon did not take $SECRETS_NAME on the session bus" >&2
    exit 1
  fi
  export DESKKMS_TEST_SECRET_SERVICE=1
  status=0
  "$@" || status=$?
  kill "$pid" 2>/dev/null || true
  exit "$status"
fi

if [ $# -eq 0 ]; then
  echo "usage: bash test/setup/with-secret-service.sh CMD [ARGS...]" >&2
  exit 2
fi
for tool in dbus-run-session dbus-daemon dbus-send gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-secret-service: $tool is missing; run: bash test/setup/system-deps.sh" >&2
    exit 127
  fi
done

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
# HOME moves below; npm's cache and user config and the XDG cache stay where they were.
if [ -n "${HOME:-}" ]; then
  export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
  export npm_config_userconfig="${npm_config_userconfig:-$HOME/.npmrc}"
  export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deskkms-secret-service.XXXXXX")
cleanup() {
  # The keyring daemon may still be writing while it exits: retry once.
  rm -rf "$tmp" 2>/dev/null || { sleep 0.5; rm -rf "$tmp"; }
}
trap cleanup EXIT
mkdir -p "$tmp/home/.local/share" "$tmp/home/.config" "$tmp/run"
chmod 700 "$tmp/home" "$tmp/run"

# dbus-daemon running as root warns "Failed to set fd limit to 65536: Operation not permitted" when
# the hard limit is lower. Harmless: filter that one line, keep anything else it says.
real_dbus_daemon=$(command -v dbus-daemon)
cat >"$tmp/dbus-daemon" <<EOF
#!/usr/bin/env bash
filter() {
  # Hold no descriptor but stdin and stderr: dbus-run-session waits for EOF on the address pipe.
  local fd
  for fd in /proc/\$BASHPID/fd/*; do
    fd=\${fd##*/}
    if [ "\$fd" -gt 2 ]; then eval "exec \$fd>&-" 2>/dev/null || true; fi
  done
  exec grep -v --line-buffered 'Failed to set fd limit' >&2
}
exec '$real_dbus_daemon' "\$@" 2> >(filter)
EOF
chmod 700 "$tmp/dbus-daemon"

status=0
env -u GNOME_KEYRING_CONTROL -u GNOME_KEYRING_PID -u SSH_AUTH_SOCK \
  HOME="$tmp/home" \
  XDG_DATA_HOME="$tmp/home/.local/share" \
  XDG_CONFIG_HOME="$tmp/home/.config" \
  XDG_RUNTIME_DIR="$tmp/run" \
  dbus-run-session --dbus-daemon="$tmp/dbus-daemon" -- bash "$self" --in-session "$@" || status=$?
exit "$status"
