#!/usr/bin/env bash
# demo.sh - set up, build and run Nestlab's main demo (`nestlab` with no image
# runs the built-in default).  Extra arguments go to `nestlab`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target nestlab
exec ./build/nestlab "$@"
