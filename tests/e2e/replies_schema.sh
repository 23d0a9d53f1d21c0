#!/bin/bash
# e2e_replies_schema: every JSON-RPC reply the end-to-end tests recorded
# matches the OpenRPC schema. The tests leave their logs in
# MFCD_E2E_REPLY_SPOOL (lib.sh: e2e_check_replies); ctest runs this after
# them (a fixture cleanup, tests/CMakeLists.txt), and --reset before them.
set -euo pipefail
spool=${MFCD_E2E_REPLY_SPOOL:?MFCD_E2E_REPLY_SPOOL names the directory of reply logs}
if [ "${1:-}" = --reset ]; then
  rm -rf "$spool"
  mkdir -p "$spool"
  exit 0
fi
shopt -s nullglob
logs=("$spool"/*.log)
if [ "${#logs[@]}" -eq 0 ]; then
  echo "no reply logs in $spool: no end-to-end test that talks to the daemon passed"
  exit 0
fi
replies=$(cat "${logs[@]}" | wc -l)
python3 -W ignore "$MFCD_SOURCE_DIR/tests/tools/rpc_schema.py" validate-log \
  "$MFCD_SOURCE_DIR/schema/mfcd.openrpc.json" "${logs[@]}"
echo "PASS: $replies replies from ${#logs[@]} tests match the schema"
