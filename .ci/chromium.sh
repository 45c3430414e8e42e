# Install Debian's Chromium for the report's browser test (tests/year/test_report_browser.py).
# Source or run it; a machine that has /usr/bin/chromium already is left alone.
if ! command -v chromium >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
    echo "chromium.sh: installing chromium" >&2
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
