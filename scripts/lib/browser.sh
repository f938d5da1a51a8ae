# shellcheck shell=bash
# Shared by scripts/check-preview and scripts/screenshots; sourced, not run, from the repository
# root. Installs what they need, each step skipped when already done:
# - Debian's Chromium (/usr/bin/chromium) with apt-get, never a browser build a tool downloads;
# - playwright-core, pinned by scripts/browser/package-lock.json, into target/test-tools/browser.
# Needs: root (or sudo) for apt-get, Node.js 20 or later with npm.

browser_tools="$PWD/target/test-tools/browser"

# Debian packages: chromium, plus any named (fonts).
install_browser() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing ${missing[*]} (apt-get)"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

# playwright-core and scripts/browser/preview.mjs in target/test-tools/browser.
install_driver() {
  command -v node >/dev/null || { echo "error: Node.js 20 or later is needed (node not found)" >&2; return 1; }
  mkdir -p "$browser_tools"
  if ! cmp -s scripts/browser/package-lock.json "$browser_tools/package-lock.json" \
    || [ ! -f "$browser_tools/node_modules/playwright-core/package.json" ]; then
    cp scripts/browser/package.json scripts/browser/package-lock.json "$browser_tools/"
    (cd "$browser_tools" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  fi
  # Beside its node_modules, so that Node finds playwright-core.
  cp scripts/browser/preview.mjs "$browser_tools/"
}

# node preview.mjs ARGS…
preview_browser() {
  node "$browser_tools/preview.mjs" "$@"
}
