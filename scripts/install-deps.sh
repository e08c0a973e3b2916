#!/usr/bin/env bash
# Installs every build and test dependency of lplex++ from Debian 12 packages.
# Idempotent: packages already present are not downloaded again, and apt is
# only consulted when something is missing, so `make test` stays fast on a
# machine that already has everything.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libzstd-dev zstd
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  nlohmann-json3-dev libfmt-dev libspdlog-dev libcli11-dev
  clang-14 libclang-rt-14-dev
  libcurl4-openssl-dev libssl-dev
  # cpp-hocon's headers include leatherman/locale and boost headers, which
  # its -dev package does not pull in.
  libcpp-hocon-dev libleatherman-dev libboost-dev
  awscli jq
  # sd_notify for lplex-server (Type=notify systemd units).
  libsystemd-dev
  # mDNS: lplex-server announces _lplex._tcp and lplex finds it through the
  # avahi daemon (src/mdns), over D-Bus.
  libavahi-client-dev
  # gRPC replication: protoc + grpc_cpp_plugin generate the C++ stubs at
  # build time; the -dev packages supply headers, libraries and pkg-config.
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
)

missing=()
# canboat's PGN database is a data package from npm, not a Debian package:
# scripts/fetch-canboat.sh needs npm, which Debian 12 packages (a machine that
# already has npm, e.g. from NodeSource, keeps its own).
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

bash "$(dirname "$0")/fetch-canboat.sh"
