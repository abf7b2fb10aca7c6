#!/usr/bin/env bash
# Make sure Debian's chromium (and CJK fonts for Chinese pages) is installed for the browser tests.
# 确保浏览器测试所需的 Debian chromium 与中文字体已安装。
#
# Only Debian's `chromium` package, installed with apt-get, is ever used: no browser is downloaded
# any other way (no `playwright install`). Playwright drives it via executable_path=/usr/bin/chromium.
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
PACKAGES=(chromium fonts-noto-cjk)
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

say()  { printf '[ensure_chromium] %s\n' "$*"; }
fail() { printf '[ensure_chromium] ERROR: %s\n' "$*" >&2; exit 1; }

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
if [[ ! -x "$CHROMIUM" ]]; then
    missing+=(chromium)
fi
if command -v dpkg-query >/dev/null 2>&1 && ! have_pkg fonts-noto-cjk; then
    missing+=(fonts-noto-cjk)
fi

if ((${#missing[@]} == 0)); then
    say "ok: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

can_apt=0
if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    can_apt=1
fi

if ((can_apt == 0)); then
    if [[ " ${missing[*]} " == *" chromium "* ]]; then
        fail "$CHROMIUM is missing. Install Debian's chromium and CJK fonts as root:
    apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}
    (never download a browser any other way; set CHROMIUM_PATH if it lives elsewhere)"
    fi
    say "warning: fonts-noto-cjk is not installed; Chinese text will render as boxes in screenshots."
    say "         install it as root: apt-get install -y --no-install-recommends fonts-noto-cjk"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
say "installing ${missing[*]} with apt-get (waits for the dpkg lock if another install is running) …"
# apt-get update takes the lists lock, which DPkg::Lock::Timeout does not always cover: retry.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if apt-get "${APT_OPTS[@]}" update -qq; then
        break
    fi
    ((attempt == 10)) && fail "apt-get update failed"
    say "apt-get update failed (lock busy?) — retrying in 30s ($attempt/10)"
    sleep 30
done
apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}" \
    || fail "apt-get install ${missing[*]} failed"

[[ -x "$CHROMIUM" ]] || fail "$CHROMIUM still missing after installing chromium"
say "ok: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
