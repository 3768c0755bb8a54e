#!/bin/sh
# Check the public headers as a DAOS application meets them:
#  1. every public header compiles on its own (C11, C++);
#  2. tests/headers/headers_test.c (layouts, constants, signatures, the renaming macros, the
#     application's own container_of/min/max and globals) compiles as strict C11, GNU C99 and
#     GNU C11 (and with clang if present); headers_test.cpp compiles with g++ if present;
#  3. daos.h does not pull in gurt/common.h;
#  4. the public headers define no macro outside the DAOS prefixes (gcc -dM, minus the macros
#     of the system headers they include), and, if clang and python3 are present, declare no
#     other top-level name outside them either.
# Nothing is linked.
#
#   check.sh SRC_DIR
set -eu

src=${1:?usage: check.sh SRC_DIR}
inc="$src/include"
here="$src/tests/headers"
CC=${CC:-cc}
CXX=${CXX:-g++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# The public headers and the allowed name prefixes (shared/API.md).
pub="daos.h daos_version.h daos_types.h daos_errno.h daos_event.h daos_obj.h daos_obj_class.h
daos_array.h daos_kv.h daos_prop.h daos_cont.h daos_pool.h daos_mgmt.h daos_security.h
daos_task.h daos_fs.h daos_fs_sys.h daos_uns.h"
allowed='^(D_|DAOS_|DFS_|DER_|DUNS_|OC_|DPI_|daos_|dfs_|d_|duns_)'

fail=0
step() { printf '%s\n' "-- $*"; }
bad() {
	printf 'FAIL: %s\n' "$*"
	fail=1
}

step "each public header compiles on its own"
for h in $pub; do
	[ -f "$inc/$h" ] || {
		bad "missing $inc/$h"
		continue
	}
	printf '#include <%s>\ntypedef int t_nonempty;\n' "$h" >"$tmp/one.c"
	"$CC" -std=c11 -pedantic -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/one.c" ||
		bad "$h does not compile alone (C11)"
	if command -v "$CXX" >/dev/null 2>&1; then
		cp "$tmp/one.c" "$tmp/one.cpp"
		"$CXX" -std=c++11 -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/one.cpp" ||
			bad "$h does not compile alone (C++11)"
	fi
done

step "application test, C"
cflags="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wundef"
# shellcheck disable=SC2086
"$CC" -std=c11 -pedantic -D_POSIX_C_SOURCE=200809L $cflags -I"$inc" -c \
	"$here/headers_test.c" -o "$tmp/t1.o" || bad "headers_test.c, -std=c11 -pedantic"
# shellcheck disable=SC2086
"$CC" -std=gnu99 $cflags -I"$inc" -c "$here/headers_test.c" -o "$tmp/t2.o" ||
	bad "headers_test.c, -std=gnu99"
# shellcheck disable=SC2086
"$CC" -std=gnu11 -O2 $cflags -I"$inc" -c "$here/headers_test.c" -o "$tmp/t3.o" ||
	bad "headers_test.c, -std=gnu11 -O2"
if command -v clang >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	clang -std=c11 -pedantic -D_POSIX_C_SOURCE=200809L $cflags -I"$inc" -c \
		"$here/headers_test.c" -o "$tmp/t4.o" || bad "headers_test.c, clang -std=c11"
fi

if command -v "$CXX" >/dev/null 2>&1; then
	step "application test, C++"
	for std in c++11 c++17; do
		"$CXX" -std=$std -Wall -Wextra -Werror -I"$inc" -c "$here/headers_test.cpp" \
			-o "$tmp/tx.o" || bad "headers_test.cpp, -std=$std"
	done
else
	step "no $CXX: C++ test skipped"
fi

step "daos.h does not include gurt/common.h"
printf '#include <daos.h>\n' >"$tmp/daos_only.c"
"$CC" -I"$inc" -M "$tmp/daos_only.c" >"$tmp/deps" || bad "cannot list the includes of daos.h"
if grep -q 'gurt/common\.h' "$tmp/deps"; then
	bad "daos.h includes gurt/common.h"
fi

step "macros defined by the public headers"
# The system headers our headers include, as the baseline of foreign macros.
: >"$tmp/sys.c"
for h in $pub gurt/types.h gurt/list.h; do
	[ -f "$inc/$h" ] || continue
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$inc/$h"
done | sort -u | while read -r sys; do
	[ -f "$inc/$sys" ] || printf '#include <%s>\n' "$sys"
done >"$tmp/sys.c"
: >"$tmp/all.c"
for h in $pub; do
	printf '#include <%s>\n' "$h" >>"$tmp/all.c"
done
names() {
	"$CC" -std=gnu11 -I"$inc" -dM -E "$1" | awk '$1 == "#define" { sub(/\(.*/, "", $2); print $2 }' |
		sort -u
}
names "$tmp/sys.c" >"$tmp/sys.names"
names "$tmp/all.c" >"$tmp/all.names"
comm -13 "$tmp/sys.names" "$tmp/all.names" | grep -Ev "$allowed" >"$tmp/bad.names" || true
if [ -s "$tmp/bad.names" ]; then
	bad "macros outside the allowed prefixes:"
	sed 's/^/    /' "$tmp/bad.names"
fi

if command -v clang >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
	step "top-level names declared by the public headers"
	clang -std=gnu11 -I"$inc" -fsyntax-only -Xclang -ast-dump=json "$tmp/all.c" \
		>"$tmp/ast.json" 2>/dev/null || bad "clang cannot parse the headers"
	python3 - "$tmp/ast.json" "$inc" "$allowed" >"$tmp/bad.decls" <<'EOF' || bad "AST scan failed"
import json, os, re, sys

ast_file, inc, allowed = sys.argv[1], os.path.realpath(sys.argv[2]), re.compile(sys.argv[3])
kinds = {"FunctionDecl", "VarDecl", "TypedefDecl", "RecordDecl", "EnumDecl",
         "EnumConstantDecl"}
found = set()
cur_file = [None]

def ours():
    f = cur_file[0]
    return f is not None and os.path.realpath(f).startswith(inc + os.sep)

def walk(node, depth):
    loc = node.get("loc", {})
    for key in ("file",):
        if key in loc:
            cur_file[0] = loc[key]
        elif "expansionLoc" in loc and key in loc["expansionLoc"]:
            cur_file[0] = loc["expansionLoc"][key]
    kind = node.get("kind")
    name = node.get("name")
    if kind in kinds and name and ours():
        found.add(name)
    # only file-scope declarations and the enumerators of file-scope enums
    if depth == 0 or kind == "EnumDecl":
        for child in node.get("inner", []):
            walk(child, depth + 1)

root = json.load(open(ast_file))
for top in root.get("inner", []):
    walk(top, 0)
for name in sorted(found):
    if not allowed.match(name):
        print(name)
EOF
	if [ -s "$tmp/bad.decls" ]; then
		bad "names outside the allowed prefixes:"
		sed 's/^/    /' "$tmp/bad.decls"
	fi
else
	step "no clang or python3: declaration scan skipped"
fi

if [ "$fail" != 0 ]; then
	echo "headers check: FAILED"
	exit 1
fi
echo "headers check: ok"
