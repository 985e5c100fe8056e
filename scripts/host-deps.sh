#!/usr/bin/env bash
# The one host-dependency step. npm test, npm run demo, npm run bench and .ci/run all call it.
# On Debian as root it installs whatever is missing; elsewhere it prints what to install and fails.
# Later features add their packages to HOST_PACKAGES below, and nowhere else.
set -euo pipefail

HOST_PACKAGES=(
  runc                        # OCIRuntime, and what the shims run
  containerd                  # ContainerdClient tests; ships containerd-shim-runc-v2 and ctr
  docker-registry             # the real registry the tests pull from and push to
  busybox-static              # the test images are built from /bin/busybox
  skopeo                      # peer tool and interop checks
  umoci                       # peer tool and interop checks
  zstd                        # zstd layers (Node 20's zlib has no zstd)
  attr                        # setfattr/getfattr: xattrs Node cannot set
  iptables                    # port publishing
  iproute2                    # network namespaces, veth
  containernetworking-plugins # CNI bridge/host-local/portmap
  tini                        # init process for containers
  time                        # GNU time: peak RSS in benchmarks
  apache2-utils               # htpasswd -B: bcrypt htpasswd files for the registry fixture
  golang-github-opencontainers-specs-dev # the OCI runtime-spec JSON schema, to validate generated config.json
  gcc                         # builds the small shim logger (C) on first use
  libc6-dev                   # its headers
)

# Installed without their Recommends (podman's would pull in buildah and dbus-user-session, and with it systemd).
LEAN_PACKAGES=(
  podman                      # peer tool: the daemonless engine the cli-run benchmark compares against
)

missing_packages() {
  local pkg
  for pkg in "${HOST_PACKAGES[@]}" "${LEAN_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "containerkit: this is not a Debian system; install these packages (Debian names) yourself:" >&2
  printf '  %s\n' "${HOST_PACKAGES[@]}" "${LEAN_PACKAGES[@]}" >&2
  exit 1
fi

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "containerkit: missing host packages; as root run:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "containerkit: installing host packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; refresh them when they are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  apt-get update -qq
fi
install_missing() {
  local lean=() full=() pkg
  for pkg in "${missing[@]}"; do
    if [[ " ${LEAN_PACKAGES[*]} " == *" $pkg "* ]]; then lean+=("$pkg"); else full+=("$pkg"); fi
  done
  if [ "${#full[@]}" -gt 0 ]; then apt-get install -y -qq "${full[@]}" >/dev/null || return 1; fi
  if [ "${#lean[@]}" -gt 0 ]; then apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null || return 1; fi
}
if ! install_missing; then
  # Lists may be stale even if recent (a mirror moved on); one refresh, one retry.
  apt-get update -qq
  install_missing
fi

mapfile -t still < <(missing_packages)
if [ "${#still[@]}" -ne 0 ]; then
  echo "containerkit: could not install: ${still[*]}" >&2
  exit 1
fi
