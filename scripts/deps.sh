#!/usr/bin/env bash
# Installs the Debian packages kubenft needs to build and test, when any is missing.
set -euo pipefail
packages=(pkg-config libyaml-dev libnftnl-dev libmnl-dev nftables iproute2 graphviz iptables nsd dnsutils)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
