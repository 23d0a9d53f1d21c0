#!/bin/bash
# A reload with a bad config changes nothing. Each bad file below first
# adds, changes and drops routes and only then has its error, so a reload
# that applied anything before the error would show in the kernel. Every
# bad file is tried three ways (SIGHUP, mfcctl reload, config.reload over
# JSON-RPC); after each, the kernel's MFC (every entry's source, group, iif
# and oifs) and VIF tables, both families, read from /proc without the
# counters, are exactly what they were, the error is reported with its
# file, line and column, and traffic still flows. config.check says the
# same without loading anything.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.3.1 to r-out1 r-out2
mroute from r-in source $SENDER4 group 225.1.3.2 to r-out2
mroute from r-in source $SENDER6 group ff0e::3:1 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::3:2 to r-out1
CONF
GOOD=$E2E_WORK/good.conf
cp "$CONF" "$GOOD"

before=$(mr_tables)
grep -q "r-out2" <<<"$before" || fail "no VIF for r-out2 before the test: $before"
[ "$(mr_cache_entries 4)" -eq 2 ] && [ "$(mr_cache_entries 6)" -eq 2 ] ||
  fail "the kernel does not hold the 4 configured entries"

# bad_conf KIND: prints a config whose first lines change the route set
# (one route dropped, one changed, one added per family) and whose line 8
# has an error of KIND.
bad_line() {
  case $1 in
  syntax) echo "mroute from r-in source $SENDER4 group" ;;
  keyword) echo "mrout from r-in source $SENDER4 group 225.1.3.9 to r-out1" ;;
  mixed) echo "mroute from r-in source $SENDER4 group ff0e::3:9 to r-out1" ;;
  ttl) echo "phyint r-out2 enable ttl-threshold 300" ;;
  esac
}
bad_conf() {
  cat <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.3.1 to r-out1
mroute from r-in source $SENDER4 group 225.1.3.3 to r-out1
mroute from r-in source $SENDER6 group ff0e::3:1 to r-out2
mroute from r-in source $SENDER6 group ff0e::3:3 to r-out1
$(bad_line "$1")
mroute from r-in source $SENDER4 group 225.1.3.4 to r-out1
CONF
}
# The column each error is reported at (1-based).
declare -A COLUMN=([syntax]=40 [keyword]=1 [mixed]=41 [ttl]=36)
BAD_LINE=8

expect_unchanged() {
  local after
  after=$(mr_tables)
  if [ "$after" != "$before" ]; then
    echo "before:" >&2
    echo "$before" >&2
    echo "after:" >&2
    echo "$after" >&2
    fail "$1 changed the kernel's tables"
  fi
}

# refusals_at_least N: the log reports at least N refused reloads.
refusals_at_least() {
  [ "$(grep -c 'refused: the configuration has errors' "$MFCD_LOG" || true)" -ge "$1" ]
}

for kind in syntax keyword mixed ttl; do
  bad=$E2E_WORK/bad-$kind.conf
  bad_conf "$kind" >"$bad"
  want="$CONF:$BAD_LINE:${COLUMN[$kind]}"

  say "$kind error: config.check"
  check=$(rpc_ok config.check "$(jq -cn --arg f "$bad" '{file: $f}')")
  jq -e --arg f "$bad" --argjson l "$BAD_LINE" --argjson c "${COLUMN[$kind]}" \
    '.valid == false and (.errors | length) == 1 and .errors[0].file == $f and
     .errors[0].line == $l and .errors[0].column == $c and (.errors[0].message | length) > 0' \
    <<<"$check" >/dev/null || fail "config.check on the $kind error: $check"
  expect_unchanged "config.check ($kind)"

  say "$kind error: SIGHUP"
  cp "$bad" "$CONF"
  # Count what the log already holds: config.reload refusals are logged too,
  # so a running tally of our own SIGHUPs would be satisfied too early.
  n=$(($(grep -c 'refused: the configuration has errors' "$MFCD_LOG" || true) + 1))
  kill -HUP "$MFCD_PID"
  wait_for 10 "mfcd to refuse reload $n" refusals_at_least "$n"
  grep -q "$want: error: " "$MFCD_LOG" || fail "SIGHUP: the log does not name $want"
  expect_unchanged "a SIGHUP with the $kind error"

  say "$kind error: mfcctl reload"
  rc=0
  out=$(mfcctl reload 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "mfcctl reload with the $kind error succeeded: $out"
  grep -qF "$want" <<<"$out" || fail "mfcctl reload does not name $want: $out"
  expect_unchanged "mfcctl reload with the $kind error"

  say "$kind error: config.reload over JSON-RPC (and its dry run)"
  for params in '{}' '{"dry_run": true}'; do
    reply=$(rpc config.reload "$params")
    jq -e --arg f "$CONF" --argjson l "$BAD_LINE" --argjson c "${COLUMN[$kind]}" \
      '.error.code == -32004 and (.error.data.errors | length) == 1 and
       .error.data.errors[0].file == $f and .error.data.errors[0].line == $l and
       .error.data.errors[0].column == $c' <<<"$reply" >/dev/null ||
      fail "config.reload $params with the $kind error: $reply"
    expect_unchanged "config.reload $params with the $kind error"
  done

  # Still forwarding as before.
  flow 225.1.3.1 10 10 10
  flow ff0e::3:2 10 10 0
done

# A good file is still taken after all these refusals.
bad_conf syntax | grep -v "group\$" >"$CONF"
mfcctl reload
expect_mroutes 4 <<EOF
($SENDER4,225.1.3.1) r-in r-out1
($SENDER4,225.1.3.3) r-in r-out1
($SENDER4,225.1.3.4) r-in r-out1
EOF
expect_mroutes 6 <<EOF
($SENDER6,ff0e::3:1) r-in r-out2
($SENDER6,ff0e::3:3) r-in r-out1
EOF

mfcd_stop
expect_no_mroute_state
