# Install Debian's Chromium and a Chinese font for the year report's browser test
# (tests/year/test_report_browser.py). Source or run it; what is there already is left alone.
_wz_chromium_main() {
    local sudo="" want=()
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
    command -v chromium >/dev/null 2>&1 || want+=(chromium)
    [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || want+=(fonts-wqy-microhei)
    if [ ${#want[@]} -gt 0 ]; then
        echo "chromium.sh: installing ${want[*]}" >&2
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${want[@]}" >/dev/null
    fi
}
_wz_chromium_main
unset -f _wz_chromium_main
