#!/usr/bin/env bash
# test.sh - set up, build and run every test: once in a normal build and once
# with AddressSanitizer + UndefinedBehaviorSanitizer (every test that runs our
# code: all but the QEMU/Bochs ones, label native), then the host code
# cross-built for arm64 with its boot tests under qemu-aarch64.  Pass `-L label` or
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

# The host code built for arm64 (Debian's cross compiler) and its boot tests
# run under qemu-aarch64 user mode, booting the x86 build's images: a
# portability slip (char signedness, alignment, x86-only code) fails here.
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
	cmake -S . -B build-arm64 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DNESTLAB_X86_BUILD="$PWD/build" >/dev/null
	cmake --build build-arm64 -j"$jobs"
	run_pass "arm64 build under qemu-aarch64 (label boot)" build-arm64 -L boot "$@"
else
	echo "nestlab: arm64 pass skipped: aarch64-linux-gnu-gcc or qemu-aarch64 missing (scripts/deps.sh installs them)"
fi

if [ "$ran_total" -eq 0 ]; then
	echo "nestlab: no test ran: nothing was checked"
	exit 1
fi
echo "nestlab: all $ran_total tests that ran passed"
