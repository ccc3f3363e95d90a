#!/usr/bin/env bash
# Installs the Debian packages the test suite drives as real peers, when they are missing.
# Needs root (or passwordless sudo) only when something has to be installed; silent otherwise.
set -euo pipefail
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# ssh-keygen checks the OpenSSH public keys of key bundles.
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
# The OS keychain peer (DESIGN.md section 5): a private session bus (dbus-run-session is in
# dbus-daemon on bookworm; dbus-send, used to name the Secret Service owner, is in dbus-bin),
# gnome-keyring-daemon's Secret Service, and secret-tool to inspect the keychain independently.
command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus-daemon)
command -v dbus-send >/dev/null 2>&1 || need+=(dbus-bin)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
command -v secret-tool >/dev/null 2>&1 || need+=(libsecret-tools)
# The browser the end-to-end tests drive (Playwright with executablePath; never a download).
[ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
# The release-signing formats' verifiers (issue 13): gpg (GnuPG 2.2) and sq (Sequoia) check
# OpenPGP signatures and certificates, git drives commit and tag signing end to end.
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
command -v sq >/dev/null 2>&1 || need+=(sq)
command -v git >/dev/null 2>&1 || need+=(git)
# The agent's peers (issue 14): ssh-add and ssh log in through it, sshd (openssh-server, started by
# the test on 127.0.0.1 with its own config) accepts the login.
command -v ssh-add >/dev/null 2>&1 || need+=(openssh-client)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
# age (1.1, plugin support) encrypts and decrypts files through age-plugin-deskkms (issue 18).
command -v age >/dev/null 2>&1 || need+=(age)
# zbarimg reads the QR codes of recovery-share pages back (a decoder nobody here wrote).
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "test setup: installing ${need[*]} from Debian" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
