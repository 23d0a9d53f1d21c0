#!/bin/bash
# Builds mfcd and bench_startup in Release (build-bench/ unless BUILD_DIR is
# set) and runs the start-up benchmark; arguments go to bench_startup.
# Needs root. See tests/bench/README.md.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$src/build-bench}
# GCC 12 at -O3 reports a false -Wrestrict inside std::string's operator+
# (GCC bug 105329); keep it a warning so a Release build goes through.
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-Wno-error=restrict >/dev/null
cmake --build "$build" --target mfcd bench_startup -j2 >/dev/null
exec "$build/tests/bench_startup" --mfcd "$build/mfcd" "$@"
