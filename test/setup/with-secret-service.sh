#!/usr/bin/env bash
# Usage: bash test/setup/with-secret-service.sh CMD [ARGS...]
#
# Runs CMD against a private, real Secret Service (DESIGN.md section 5): a fresh session bus from
# dbus-run-session, gnome-keyring-daemon's secrets component with an unlocked login collection, and
# HOME plus the XDG data/config/runtime directories in a temporary directory, so the station's own
# keychain is never touched. Exits with CMD's status and removes the temporary directory.
# CMD sees DESKKMS_TEST_SECRET_SERVICE=1; tests that write to the keychain refuse to run without it.
#
# The bus starts the daemon on demand (D-Bus activation) from a service file of this session, which
# takes precedence over the system's: it gives the daemon the login password, so whichever daemon
# holds the name has the login collection unlocked. gnome-keyring-daemon 42 sometimes dies (SIGTRAP
# inside GLib) while clients are killed mid-call, and the suite kills many. The system's service
# file would then start a daemon whose login keyring is locked, and every keychain call for the rest
# of the run would fail ("unlock prompt was dismissed"). Each restart is reported on stderr.
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
  # The first start, as any later one: the bus runs the service file written below.
  dbus-send --session --print-reply=literal --reply-timeout=20000 --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.StartServiceByName "string:$SECRETS_NAME" uint32:0 >/dev/null || true
  if ! secrets_owner_pid >/dev/null; then
    echo "with-secret-service: gnome-keyring-daemon did not take $SECRETS_NAME on the session bus" >&2
    exit 1
  fi
  export DESKKMS_TEST_SECRET_SERVICE=1
  status=0
  "$@" || status=$?
  # The daemon in office now (the first one, or the last restart).
  if pid=$(secrets_owner_pid); then kill "$pid" 2>/dev/null || true; fi
  exit "$status"
fi

if [ "${1:-}" = "--start-daemon" ]; then
  # Run by the session bus (the service file below), with the bus's environment.
  marker="$XDG_RUNTIME_DIR/secrets-started"
  if [ -e "$marker" ]; then
    echo "with-secret-service: gnome-keyring-daemon died; the bus started another, login keyring unlocked" >&2
  fi
  : >"$marker"
  # It prints the variables a client would need (none here: its control socket is in the default
  # place under XDG_RUNTIME_DIR); the password goes on stdin, without a newline.
  exec gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null < <(printf '%s' "$LOGIN_PASSWORD")
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
mkdir -p "$tmp/home/.local/share" "$tmp/home/.config" "$tmp/run/dbus-1/services"
chmod 700 "$tmp/home" "$tmp/run"
# $XDG_RUNTIME_DIR/dbus-1/services is the first of the session bus's service directories: this file
# wins over /usr/share/dbus-1/services/org.freedesktop.secrets.service.
cat >"$tmp/run/dbus-1/services/$SECRETS_NAME.service" <<EOF
[D-BUS Service]
Name=$SECRETS_NAME
Exec=/usr/bin/env bash "$self" --start-daemon
EOF

# dbus-daemon running as root warns "Failed to set fd limit to 65536: Operation not permitted" when
# the hard limit is lower, and it logs each activation of the Secret Service (a restart is reported
# by --start-daemon). Filter those lines, keep anything else it says.
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
  exec grep -v -E --line-buffered -e 'Failed to set fd limit' -e "ctivat[a-z]* service (name=)?'$SECRETS_NAME'" >&2
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
