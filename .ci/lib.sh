# Shared helpers for .ci scripts: source it.

# apt_install installs Debian packages that are missing, running apt-get update at most once per
# CI run.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ ! -e /tmp/.smartappmock-apt-updated ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    touch /tmp/.smartappmock-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
