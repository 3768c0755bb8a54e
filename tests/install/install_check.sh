#!/bin/sh
# Install the build into a fresh prefix and check it as a DAOS user would meet it: the
# headers and libraries are where build systems look, libgurt exports only d_* symbols, and
# a program written against the installed headers builds with pkg-config and runs.
#
#   install_check.sh BUILD_DIR SOURCE_DIR
#
# APP_CFLAGS: more flags for the applications (a sanitizer build's libraries need the
# programs linked with the same sanitizers: CMake passes -fsanitize=... with D_SANITIZE).
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
fail=0
for f in include/daos_errno.h include/gurt/common.h include/gurt/hash.h include/gurt/list.h \
	include/gurt/types.h include/gurt/debug.h include/daos.h include/daos_types.h \
	include/daos_obj.h include/daos_fs.h include/daos_version.h lib64/libgurt.so lib64/libgurt.so.4 \
	lib64/pkgconfig/gurt.pc lib64/libdaos.so lib64/libdaos.so.2 lib64/pkgconfig/daos.pc \
	lib64/libdaos_common.so lib64/libdaos_common.so.2 lib64/pkgconfig/daos_common.pc; do
	if [ ! -e "$tmp/prefix/$f" ]; then
		echo "missing after install: $f"
		fail=1
	fi
done
[ "$fail" = 0 ] || exit 1

soname=$(objdump -p "$tmp/prefix/lib64/libgurt.so" | awk '/SONAME/ {print $2}')
if [ "$soname" != "libgurt.so.4" ]; then
	echo "libgurt soname is '$soname', expected libgurt.so.4"
	exit 1
fi

# Only the API may be exported: every defined dynamic symbol starts with d_.
bad=$(nm -D --defined-only "$tmp/prefix/lib64/libgurt.so" | awk '{print $3}' |
	grep -v -e '^d_' -e '^GURT_' || true)
if [ -n "$bad" ]; then
	echo "libgurt exports symbols outside the d_* API:"
	echo "$bad"
	exit 1
fi

# The client libraries: their soname, and only daos_* exported (applications define their
# own globals with common names).
for lib in daos:2 daos_common:2; do
	name=${lib%%:*}
	so=lib$name.so.${lib##*:}
	soname=$(objdump -p "$tmp/prefix/lib64/lib$name.so" | awk '/SONAME/ {print $2}')
	if [ "$soname" != "$so" ]; then
		echo "lib$name soname is '$soname', expected $so"
		exit 1
	fi
	bad=$(nm -D --defined-only "$tmp/prefix/lib64/lib$name.so" | awk '{print $3}' |
		grep -v -e '^daos_' -e '^DAOS_' || true)
	if [ -n "$bad" ]; then
		echo "lib$name exports symbols outside the daos_* API:"
		echo "$bad"
		exit 1
	fi
	# ... and each of them is declared by an installed public header, except those that
	# libdfs needs from libdaos's internals (DAOS exports the first two too, from
	# daos/event.h; daos_obj_fetch_query is libdfs's stat in one request, daos/object.h).
	for sym in $(nm -D --defined-only "$tmp/prefix/lib64/lib$name.so" | awk '{print $3}' |
		grep '^daos_' | sed 's/@.*//'); do
		case $sym in daos_event_launch | daos_event_complete | daos_obj_fetch_query) continue ;; esac
		if ! grep -qw "$sym" "$tmp/prefix/include/"*.h; then
			echo "lib$name exports $sym, which no public header declares"
			exit 1
		fi
	done
done

export PKG_CONFIG_PATH="$tmp/prefix/lib64/pkgconfig"
# shellcheck disable=SC2046,SC2086
cc -std=gnu11 -Wall -Wextra -Werror ${APP_CFLAGS:-} -o "$tmp/app" "$src/tests/install/app_gurt.c" \
	$(pkg-config --cflags --libs gurt)
out=$(LD_LIBRARY_PATH="$tmp/prefix/lib64" "$tmp/app")
echo "$out"
case "$out" in
*"DER_NONEXIST"*"hash: ok"*) ;;
*)
	echo "unexpected output from the application"
	exit 1
	;;
esac

# shellcheck disable=SC2046,SC2086
cc -std=gnu11 -Wall -Wextra -Werror ${APP_CFLAGS:-} -o "$tmp/app_daos" "$src/tests/install/app_daos.c" \
	$(pkg-config --cflags --libs daos)
out=$(LD_LIBRARY_PATH="$tmp/prefix/lib64" "$tmp/app_daos")
echo "$out"
case "$out" in
*"events: ok"*) ;;
*)
	echo "unexpected output from the libdaos application"
	exit 1
	;;
esac
echo "install check: ok"
