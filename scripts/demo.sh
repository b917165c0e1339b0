#!/usr/bin/env bash
# demo.sh - set up, build and run Nestlab's main demo: `nestlab` with no image
# boots the built-in hypervisor (nesthv) with the teaching guest on the
# emulated CPU without VT-x/AMD-V, so nesthv uses its paravirtual backend.
# Extra arguments go to `nestlab` (e.g. --demo, --stats, or an image).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target nestlab
set +e
./build/nestlab "$@"
status=$?
set -e
# nesthv ends the run with 16 + the guest's status at port 0xF4: 16 is success.
if [ $# -eq 0 ] && [ $status -eq 16 ]; then
	echo "demo: nesthv ran the teaching guest to the end: success (nestlab exit value 16)" >&2
	exit 0
fi
exit $status
