# shellcheck shell=bash
# tests/common/san_scan.sh: sourced by the test scripts' EXIT traps (lib/server.sh's
# t_cleanup, common/with_server.sh, run/test_make_run.sh). In a sanitizer build,
# UndefinedBehaviorSanitizer writes its reports to the process's stderr whatever log_path
# says (gcc 12's combined ASan+UBSan runtime), and a server's stderr is a file of the test's
# temp dir, removed by the trap: so the trap scans those files first.

# san_scan DIR: print every text log under DIR (*.err, *.out, *.log, below 64 MiB, not
# crossing into mounts) that holds a sanitizer error, with its lines; return 1 if one did.
san_scan() {
	local f found=0
	while IFS= read -r f; do
		if grep -qaE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f" 2>/dev/null; then
			echo "FAIL: sanitizer report in ${f#"$1"/}:"
			grep -aE -A30 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f" | sed 's/^/    /'
			found=1
		fi
	done < <(find "$1" -xdev -type f \( -name '*.err' -o -name '*.out' -o -name '*.log' \) \
		-size -64M 2>/dev/null)
	return $found
}
