#!/usr/bin/env bash
# test.sh - set up, build and run every test: once in a normal build and once
# with AddressSanitizer + UndefinedBehaviorSanitizer (every test that runs our
# code: all but the QEMU/Bochs ones, label native).  Pass `-L label` or
# other ctest options to narrow it down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" "$@")

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNESTLAB_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --output-on-failure -j"$jobs" -LE native "$@")
echo "nestlab: all tests passed (normal and ASan+UBSan builds)"
