#!/usr/bin/env bash
# test.sh - set up, build and run every test: once in a normal build and once
# with AddressSanitizer + UndefinedBehaviorSanitizer (every test that runs our
# code: all but the QEMU/Bochs ones, label native).  Pass `-L label` or
# other ctest options to narrow it down.  Each pass says how many tests it
# ran and how many were skipped (a tool absent); a pass that matched no test
# says so, and the last line counts only what ran.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_pass NAME DIR CTEST-ARGS...: run ctest, then print what it did.
ran_total=0
run_pass() {
	local name=$1 dir=$2
	shift 2
	local n
	n=$( (cd "$dir" && ctest -N "$@") | sed -n 's/^Total Tests: //p')
	if [ "${n:-0}" -eq 0 ]; then
		echo "nestlab: $name: no test matches ($*): nothing ran"
		return 0
	fi
	(cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") | tee "$log"
	local skipped
	skipped=$(grep -c '(Skipped)' "$log" || true)
	echo "nestlab: $name: $((n - skipped)) tests ran and passed, $skipped skipped"
	ran_total=$((ran_total + n - skipped))
}

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
run_pass "normal build" build "$@"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNESTLAB_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	run_pass "ASan+UBSan build (all but label native)" build-asan -LE native "$@"

if [ "$ran_total" -eq 0 ]; then
	echo "nestlab: no test ran: nothing was checked"
	exit 1
fi
echo "nestlab: all $ran_total tests that ran passed"
