#!/bin/sh
# Install the Debian packages this project builds, tests and runs with.
#
#   scripts/install-deps.sh           install whatever is missing (root)
#   scripts/install-deps.sh --check   exit 0 if nothing is missing, 1 otherwise
#   scripts/install-deps.sh --list    print the package list
#
# Idempotent: installed packages are left alone, and apt-get update runs once, only when
# something must be installed.
set -eu

PKGS="
build-essential
cmake
pkg-config
clang
clang-format
libclang-rt-14-dev
libcmocka-dev
libfabric-dev
libraft-dev
libuv1-dev
libisal-dev
liburing-dev
libyaml-dev
libprotobuf-c-dev
protobuf-c-compiler
libssl-dev
libfuse3-dev
fuse3
uuid-dev
"

missing() {
	for p in $PKGS; do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		case "$st" in
		ii*) ;;
		*) echo "$p" ;;
		esac
	done
}

case "${1:-}" in
--list)
	echo $PKGS
	exit 0
	;;
--check)
	m=$(missing)
	[ -z "$m" ] && exit 0
	echo "missing packages:" $m >&2
	exit 1
	;;
"") ;;
-h | --help)
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [--check|--list|--help]" >&2
	exit 2
	;;
esac

m=$(missing)
if [ -z "$m" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
line="apt-get install -y --no-install-recommends" 
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; run:" >&2
	echo "  sudo apt-get update && sudo $line" $m >&2
	exit 1
fi
echo "install-deps: installing:" $m
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
$line $m
