# Shared helpers for .ci scripts: source it.

# apt_install installs Debian packages that are missing, running apt-get update at most once per
# CI run: .ci/run makes a fresh directory for the run ($SMARTAPPMOCK_CI_RUN_DIR, removed when it
# ends) and the marker lives there, so the next run sees today's package lists, not last month's.
# A setup script run on its own (no run directory) updates every time.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local marker=${SMARTAPPMOCK_CI_RUN_DIR:+$SMARTAPPMOCK_CI_RUN_DIR/apt-updated}
  if [ -z "$marker" ] || [ ! -e "$marker" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    if [ -n "$marker" ]; then touch "$marker"; fi
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
