#!/usr/bin/env bash
# Installs headless Chromium for the inbox browser tests (mockserver/inbox_browser_test.go), and the
# fonts that let Chinese text and emoji render in the inbox screenshot (docs/inbox.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib.sh
apt_install chromium fonts-noto-cjk fonts-noto-color-emoji
chromium --version
