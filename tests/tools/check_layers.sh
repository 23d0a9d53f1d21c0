#!/bin/bash
# The layers' rules that include roots cannot enforce (CMakeLists.txt gives
# each layer a root holding only itself, so a project header included the
# wrong way already fails to compile): which system headers a layer may
# use. The core makes no syscalls and knows no loop, no logging and no
# JSON; the router and the methods know no loop and no OS interface; and
# nobody reaches around a root with "../".
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
status=0

# forbid LAYER REGEX WHY
forbid() {
  local layer=$1 regex=$2 why=$3 hits
  hits=$(grep -nE "^#include <($regex)" "$src/daemon/$layer"/*.[ch]pp || true)
  if [ -n "$hits" ]; then
    echo "daemon/$layer must not include these ($why):"
    sed 's/^/  /' <<<"$hits"
    status=1
  fi
}

os='uv\.h|sys/|unistd\.h|fcntl\.h|poll\.h|linux/|netinet/|net/|libmnl/'
forbid core "$os|spdlog/|nlohmann/" "the core is pure: no syscalls, no loop, no logging, no JSON"
forbid router "$os|nlohmann/" "the router does its I/O through ports and knows no loop or JSON"
forbid api "$os" "the methods reach the system only through the router and the Daemon port"

if grep -rnE '^#include "\.\./' "$src/daemon" "$src/rpc" "$src/client"; then
  echo "an include reaches around the layers' roots with \"../\""
  status=1
fi
[ "$status" -ne 0 ] || echo "layers: every include goes the right way"
exit "$status"
