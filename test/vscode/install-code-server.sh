#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3, the last line that runs on Node 20) from npm into
# its own folder, for the real-VS-Code suite in test/vscode. Not part of `npm ci`: it builds native
# modules (~300 MiB, a minute or two). Idempotent: does nothing when that folder already holds a
# working code-server of this version. Prints the code-server binary's path as its last line.
#
#   TETHER_CODE_SERVER_DIR  where to install (default ~/.cache/tether/code-server-4.100.3)
#
# Needs Debian packages libkrb5-dev (kerberos module), ripgrep (see below), g++ make python3.
set -euo pipefail

version=4.100.3
dir=${TETHER_CODE_SERVER_DIR:-${HOME}/.cache/tether/code-server-${version}}
bin=$dir/node_modules/code-server/out/node/entry.js
stamp=$dir/.installed

works() {
  [[ -f $stamp && -f $bin ]] || return 1
  local home out
  # Every code-server command writes a config file under $HOME: give it a throwaway one.
  home=$(mktemp -d "${TMPDIR:-/tmp}/tether-code-server-probe.XXXXXX")
  out=$(HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share node "$bin" --version 2>/dev/null) || true
  rm -rf "$home"
  grep -q "^$version " <<<"$out"
}

if works; then
  echo "code-server $version already installed in $dir" >&2
  echo "$bin"
  exit 0
fi

for program in rg g++ make python3; do
  if ! command -v "$program" >/dev/null; then
    echo "install-code-server: '$program' is missing (apt-get install ripgrep g++ make python3 libkrb5-dev)" >&2
    exit 1
  fi
done
if [[ ! -e /usr/include/krb5.h && ! -e /usr/include/gssapi/gssapi.h ]]; then
  echo "install-code-server: Kerberos headers are missing (apt-get install libkrb5-dev)" >&2
  exit 1
fi

start=$SECONDS
rm -rf "$dir/node_modules" "$dir/package.json" "$stamp"
mkdir -p "$dir"
work=$(mktemp -d "${TMPDIR:-/tmp}/tether-code-server-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

# @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable here; it first
# looks in $TMPDIR/vscode-ripgrep-cache-<its version>/ for the archive it wants, so give it
# Debian's rg under that name.
export TMPDIR=$work
mkdir -p "$work/rg/bin" "$work/vscode-ripgrep-cache-1.15.11"
cp "$(command -v rg)" "$work/rg/bin/rg"
tar -czf "$work/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$work/rg/bin" rg

# npm 11 runs dependency install scripts only when package.json allows them. code-server's own
# postinstall runs a nested `npm install` in lib/vscode, a project of its own, and npm hands its
# config to lifecycle scripts as npm_config_* variables, which the nested npm would reject as a
# command-line allow list. So: install code-server with its own script denied (argon2's native
# build allowed), give lib/vscode a project .npmrc with an explicit allow list (the native modules
# of VS Code's server), and run code-server's postinstall from here with a plain environment.
export npm_config_yes=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
printf '{ "name": "tether-code-server", "private": true, "allowScripts": { "argon2": true, "code-server": false } }\n' >"$dir/package.json"

echo "installing code-server $version into $dir (builds native modules; takes a few minutes)" >&2
(cd "$dir" && npm install --no-save --no-package-lock "code-server@$version" </dev/null >&2)
package=$dir/node_modules/code-server
echo 'allow-scripts=@parcel/watcher,@vscode/ripgrep,@vscode/spdlog,@vscode/deviceid,kerberos,native-watchdog,node-pty' >"$package/lib/vscode/.npmrc"
# postinstall.sh picks npm from the user agent and insists on unsafe-perm when run as root.
(cd "$package" && npm_config_unsafe_perm=true npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64" sh ./postinstall.sh </dev/null >&2)

# Check what the suite relies on: the server starts, the terminal's native module loads and
# ripgrep (search) is there.
for file in \
  "$dir/node_modules/code-server/lib/vscode/node_modules/node-pty/build/Release/pty.node" \
  "$dir/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"; do
  if [[ ! -e $file ]]; then
    echo "install-code-server: $file is missing after npm install (an install script did not run)" >&2
    exit 1
  fi
done
touch "$stamp"
if ! works; then
  echo "install-code-server: code-server --version does not print $version after installing" >&2
  exit 1
fi
echo "code-server $version installed in $dir in $((SECONDS - start))s" >&2
echo "$bin"
