#!/bin/sh
# Installs the algwatch agent on a site box as a systemd service, or removes it (--uninstall).
#
#   sudo ./install-agent.sh --server http://HOST:8080 --token TOKEN
#   sudo ALGWATCH_TOKEN=TOKEN ./install-agent.sh --server http://HOST:8080   (keeps the token out of `ps`)
#   sudo ./install-agent.sh --uninstall
#
# What it does, in order, each step only when something differs (so running it twice is safe,
# and running it again with a new --server or --token changes just that):
#   1. creates the system user algwatch-agent (systemd-sysusers; no login, no home of its own);
#   2. installs the package algwatch-agent-*.tgz found next to this script (or --package FILE)
#      with `npm install --global --prefix /usr/local`: the agent is one bundled file and its
#      launcher, with no dependencies, so npm fetches nothing;
#   3. writes /etc/algwatch-agent/agent.env (server URL and token), mode 0600, owned by root;
#   4. installs the unit /etc/systemd/system/algwatch-agent.service from the package, enables it
#      and (re)starts it when anything above changed.
# --uninstall stops and disables the service and removes the unit, the settings, the package,
# the agent's state (/var/lib/algwatch-agent: its outbox and id) and the user.
#
# --root DIR works on DIR as if it were / (tests, images): systemctl is then only asked to
# enable or disable, nothing is started or stopped.
# Needs: Node 20 with npm, systemd (systemctl, systemd-sysusers), and root.
set -eu

USER_NAME=algwatch-agent
UNIT=algwatch-agent.service
ROOT=
SERVER=
TOKEN=${ALGWATCH_TOKEN:-}
PACKAGE=
UNINSTALL=no

say() { printf 'install-agent: %s\n' "$*"; }
fail() { printf 'install-agent: %s\n' "$*" >&2; exit 1; }
usage() {
  sed -n '4,6p' "$0" | sed 's/^#   //' >&2
  printf '  options: [--package FILE] [--root DIR]\n' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
    --server) [ $# -ge 2 ] || usage; SERVER=$2; shift 2 ;;
    --token) [ $# -ge 2 ] || usage; TOKEN=$2; shift 2 ;;
    --package) [ $# -ge 2 ] || usage; PACKAGE=$2; shift 2 ;;
    --root) [ $# -ge 2 ] || usage; ROOT=$2; shift 2 ;;
    --uninstall) UNINSTALL=yes; shift ;;
    -h|--help) usage ;;
    *) printf 'install-agent: unknown option %s\n' "$1" >&2; usage ;;
  esac
done

if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || fail "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
fi
[ "$(id -u)" -eq 0 ] || fail "run it as root (sudo): it creates a user and a system service"

PREFIX=$ROOT/usr/local
PACKAGE_DIR=$PREFIX/lib/node_modules/algwatch-agent
ENV_DIR=$ROOT/etc/algwatch-agent
ENV_FILE=$ENV_DIR/agent.env
UNIT_FILE=$ROOT/etc/systemd/system/$UNIT
STATE_DIR=$ROOT/var/lib/algwatch-agent
# systemctl acts on the running system only when we install into it.
LIVE=no
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then LIVE=yes; fi

systemctl_root() {
  if [ -n "$ROOT" ]; then systemctl --root="$ROOT" "$@"; else systemctl "$@"; fi
}

if [ "$UNINSTALL" = yes ]; then
  if [ "$LIVE" = yes ]; then
    systemctl disable --now "$UNIT" 2>/dev/null || true
  elif [ -f "$UNIT_FILE" ]; then
    systemctl_root disable "$UNIT" >/dev/null 2>&1 || true
  fi
  if [ -f "$UNIT_FILE" ]; then rm -f "$UNIT_FILE"; say "removed $UNIT"; fi
  if [ "$LIVE" = yes ]; then systemctl daemon-reload; fi
  if [ -d "$ENV_DIR" ]; then rm -rf "$ENV_DIR"; say "removed the settings in /etc/algwatch-agent"; fi
  if [ -d "$PACKAGE_DIR" ]; then
    npm uninstall --global --prefix "$PREFIX" --no-audit --no-fund --loglevel=error algwatch-agent >/dev/null
    say "removed the algwatch-agent package"
  fi
  if [ -d "$STATE_DIR" ]; then rm -rf "$STATE_DIR"; say "removed the agent's state in /var/lib/algwatch-agent"; fi
  # userdel takes the user's own group only where login.defs says so; remove the group explicitly.
  if grep -q "^$USER_NAME:" "$ROOT/etc/passwd" 2>/dev/null; then userdel ${ROOT:+--root "$ROOT"} "$USER_NAME"; say "removed user $USER_NAME"; fi
  if grep -q "^$USER_NAME:" "$ROOT/etc/group" 2>/dev/null; then groupdel ${ROOT:+--root "$ROOT"} "$USER_NAME"; fi
  say "uninstalled"
  exit 0
fi

# Settings: keep what the environment file already says for anything not given now.
if [ -f "$ENV_FILE" ]; then
  [ -n "$SERVER" ] || SERVER=$(sed -n 's/^ALGWATCH_SERVER=//p' "$ENV_FILE")
  [ -n "$TOKEN" ] || TOKEN=$(sed -n 's/^ALGWATCH_TOKEN=//p' "$ENV_FILE")
fi
[ -n "$SERVER" ] || fail "--server URL is needed (the algwatch server's URL, as \`algwatch-server site add\` printed it)"
[ -n "$TOKEN" ] || fail "--token TOKEN (or ALGWATCH_TOKEN) is needed: the site's token from \`algwatch-server site add\`"
# Both go into a file systemd parses: nothing that could end a line, quote or start a comment.
case $SERVER in
  http://?*|https://?*) ;;
  *) fail "--server must be an http:// or https:// URL, e.g. http://algwatch.example.net:8080" ;;
esac
case $SERVER in
  *[!A-Za-z0-9._:@%/[\]-]*) fail "--server must be an http:// or https:// URL, e.g. http://algwatch.example.net:8080" ;;
esac
case $TOKEN in
  *[!A-Za-z0-9._~+/=-]*) fail "--token does not look like an algwatch token (copy it again from \`algwatch-server site add\`)" ;;
esac
[ ${#TOKEN} -ge 16 ] || fail "--token is too short for an algwatch token (copy it again from \`algwatch-server site add\`)"

if [ -z "$PACKAGE" ]; then
  here=$(cd "$(dirname "$0")" && pwd)
  for candidate in "$here"/algwatch-agent-*.tgz; do
    [ -f "$candidate" ] || continue
    [ -z "$PACKAGE" ] || fail "more than one algwatch-agent-*.tgz next to this script: choose one with --package FILE"
    PACKAGE=$candidate
  done
  [ -n "$PACKAGE" ] || fail "no algwatch-agent-*.tgz next to this script: give it with --package FILE"
fi
[ -f "$PACKAGE" ] || fail "--package $PACKAGE: no such file"
command -v npm >/dev/null || fail "npm is not installed (the agent needs Node 20 with npm)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null || fail "the agent needs Node 20 or later (node --version says $(node --version 2>/dev/null || echo nothing))"

changed=no

# 1. The user.
if ! grep -q "^$USER_NAME:" "$ROOT/etc/passwd" 2>/dev/null; then
  mkdir -p "$ROOT/etc"
  systemd-sysusers ${ROOT:+--root "$ROOT"} --inline "u $USER_NAME - \"algwatch agent\" /var/lib/algwatch-agent /usr/sbin/nologin" >/dev/null
  say "created user $USER_NAME"
  changed=yes
fi

# 2. The package: installed again only when its files differ from the installed ones.
same_package=no
if [ -d "$PACKAGE_DIR" ]; then
  unpacked=$(mktemp -d)
  tar -xzf "$PACKAGE" -C "$unpacked"
  if diff -r "$unpacked/package" "$PACKAGE_DIR" >/dev/null 2>&1; then same_package=yes; fi
  rm -rf "$unpacked"
fi
if [ "$same_package" = no ]; then
  mkdir -p "$PREFIX"
  # --offline: the package has no dependencies, so there is nothing to fetch.
  npm install --global --prefix "$PREFIX" --offline --no-audit --no-fund --loglevel=error "$PACKAGE" >/dev/null
  say "installed $(basename "$PACKAGE") into /usr/local"
  changed=yes
fi

# 3. The settings, mode 0600 from the moment the file exists (umask), replaced only when different.
settings=$(
  printf '# algwatch agent settings, read by %s (root only: the token is a secret).\n' "$UNIT"
  printf 'ALGWATCH_SERVER=%s\n' "$SERVER"
  printf 'ALGWATCH_TOKEN=%s\n' "$TOKEN"
)
if ! printf '%s\n' "$settings" | cmp -s - "$ENV_FILE"; then
  mkdir -p "$ENV_DIR"
  chmod 0700 "$ENV_DIR"
  new_env=$(umask 077 && mktemp "$ENV_DIR/.agent.env.XXXXXX")
  printf '%s\n' "$settings" >"$new_env"
  mv -f "$new_env" "$ENV_FILE"
  say "wrote /etc/algwatch-agent/agent.env (server $SERVER)"
  changed=yes
fi

# 4. The unit, from the package just installed, then enabled.
mkdir -p "$(dirname "$UNIT_FILE")"
if ! cmp -s "$PACKAGE_DIR/systemd/$UNIT" "$UNIT_FILE"; then
  cp "$PACKAGE_DIR/systemd/$UNIT" "$UNIT_FILE"
  chmod 0644 "$UNIT_FILE"
  say "installed $UNIT"
  changed=yes
  if [ "$LIVE" = yes ]; then systemctl daemon-reload; fi
fi
if ! systemctl_root is-enabled --quiet "$UNIT" 2>/dev/null; then
  systemctl_root enable --quiet "$UNIT"
  say "enabled $UNIT"
fi
if [ "$LIVE" = yes ]; then
  if [ "$changed" = yes ]; then
    systemctl restart "$UNIT"
    say "started $UNIT: follow it with journalctl -u algwatch-agent -f"
  elif ! systemctl is-active --quiet "$UNIT"; then
    systemctl start "$UNIT"
    say "started $UNIT"
  fi
fi
[ "$changed" = yes ] || say "already installed and up to date: nothing changed"
