#!/bin/bash
# config.reload {"dry_run": true} reports exactly what the real reload then
# does: the two results list the same added, changed and removed routes,
# item for item, and the dry run leaves the kernel as it was. mfcctl
# reload -n prints the same plan as lines of the config's own language.
# API-added routes are neither listed nor touched by either.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.4.1 to r-out1
mroute from r-in source $SENDER4 group 225.1.4.2 to r-out1
mroute from r-in source $SENDER4 group 225.1.4.3 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::4:1 to r-out1
mroute from r-in source $SENDER6 group ff0e::4:2 to r-out2
mroute from r-in source $SENDER6 group ff0e::4:3 to r-out1 r-out2
CONF
# An API route the config never names: a reload neither lists nor drops it.
rpc_ok route.add "$(jq -cn --arg s "$SENDER4" \
  '{iif: "r-in", source: $s, group: "225.1.4.9", oifs: ["r-out2"], owner: "orch"}')" >/dev/null

# Unchanged: .1; changed: .2 (OIFs) and .3 (one OIF less); removed: none of
# the v4 ones, ff0e::4:2; added: 225.1.4.4, ff0e::4:4 and a route waiting
# for an interface that does not exist (added as pending).
cat >"$CONF.new" <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.4.1 to r-out1
mroute from r-in source $SENDER4 group 225.1.4.2 to r-out2
mroute from r-in source $SENDER4 group 225.1.4.3 to r-out2
mroute from r-in source $SENDER4 group 225.1.4.4 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::4:1 to r-out1
mroute from r-in source $SENDER6 group ff0e::4:3 to r-out1 r-out2 r-late
mroute from r-in source $SENDER6 group ff0e::4:4 to r-out2
mroute from r-late source $SENDER6 group ff0e::4:5 to r-out1
CONF
mv "$CONF.new" "$CONF"

before=$(mr_tables)
dry=$(rpc_ok config.reload '{"dry_run": true}')
[ "$(mr_tables)" = "$before" ] || fail "the dry run changed the kernel"
dry2=$(rpc_ok config.reload '{"dry_run": true}')
[ "$dry" = "$dry2" ] || fail "two dry runs differ: $dry vs $dry2"

# groups of LIST: the sorted groups a result lists under routes.LIST.
groups_of() { jq -c --arg l "$2" '[.routes[$l][].group] | sort' <<<"$1"; }
[ "$(groups_of "$dry" added)" = '["225.1.4.4","ff0e::4:4","ff0e::4:5"]' ] ||
  fail "dry run: wrong added list: $dry"
[ "$(groups_of "$dry" changed)" = '["225.1.4.2","225.1.4.3","ff0e::4:3"]' ] ||
  fail "dry run: wrong changed list: $dry"
[ "$(groups_of "$dry" removed)" = '["ff0e::4:2"]' ] || fail "dry run: wrong removed list: $dry"
jq -e '.dry_run == true and .groups.joined == [] and .groups.left == []' <<<"$dry" >/dev/null ||
  fail "dry run: dry_run or groups wrong: $dry"
jq -e '.routes.added[] | select(.group == "ff0e::4:5") | .state == "pending"' <<<"$dry" >/dev/null ||
  fail "dry run: the route from r-late is not reported pending: $dry"
jq -e '.routes.changed[] | select(.group == "ff0e::4:3") | .missing_oifs == ["r-late"]' \
  <<<"$dry" >/dev/null || fail "dry run: ff0e::4:3 does not list r-late as missing: $dry"

say "mfcctl reload -n"
text=$(mfcctl reload -n)
[ "$(mr_tables)" = "$before" ] || fail "mfcctl reload -n changed the kernel"
for line in \
  "+ mroute from r-in source $SENDER4 group 225.1.4.4 to r-out1 r-out2" \
  "~ mroute from r-in source $SENDER4 group 225.1.4.2 to r-out2" \
  "~ mroute from r-in source $SENDER6 group ff0e::4:3 to r-out1 r-out2 r-late" \
  "- mroute from r-in source $SENDER6 group ff0e::4:2 to r-out2" \
  "+ mroute from r-late source $SENDER6 group ff0e::4:5 to r-out1  (pending)" \
  "Dry run: 3 to add, 3 to change, 1 to remove"; do
  grep -qxF -- "$line" <<<"$text" || fail "mfcctl reload -n lacks '$line'; it printed: $text"
done
[ "$(wc -l <<<"$text")" -eq 8 ] || fail "mfcctl reload -n printed more than the plan: $text"
# -j prints the result alone, as for every command.
mfcctl -j reload -n | jq -e '.dry_run == true and (.routes.added | length) == 3' >/dev/null ||
  fail "mfcctl -j reload -n does not print the result: $(mfcctl -j reload -n)"

say "the real reload does what the dry run said"
real=$(rpc_ok config.reload)
jq -e '.dry_run == false' <<<"$real" >/dev/null || fail "real reload: dry_run is not false: $real"
[ "$(jq -cS 'del(.dry_run)' <<<"$real")" = "$(jq -cS 'del(.dry_run)' <<<"$dry")" ] ||
  fail "the reload did something else than its dry run said: dry $dry; real $real"
expect_mroutes 4 <<EOF
($SENDER4,225.1.4.1) r-in r-out1
($SENDER4,225.1.4.2) r-in r-out2
($SENDER4,225.1.4.3) r-in r-out2
($SENDER4,225.1.4.4) r-in r-out1 r-out2
($SENDER4,225.1.4.9) r-in r-out2
EOF
expect_mroutes 6 <<EOF
($SENDER6,ff0e::4:1) r-in r-out1
($SENDER6,ff0e::4:3) r-in r-out1 r-out2
($SENDER6,ff0e::4:4) r-in r-out2
EOF

say "nothing left to do"
again=$(rpc_ok config.reload '{"dry_run": true}')
jq -e '[.routes[][]] | length == 0' <<<"$again" >/dev/null || fail "second dry run not empty: $again"
[ "$(mfcctl reload -n)" = "No changes" ] || fail "mfcctl reload -n with nothing to do: $(mfcctl reload -n)"
before=$(mr_tables)
out=$(mfcctl reload)
[ "$(mr_tables)" = "$before" ] || fail "a reload with nothing to do changed the kernel"
grep -qx "Nothing changed" <<<"$out" || fail "mfcctl reload with nothing to do printed: $out"

say "mfcctl reload prints its summary; smcroutectl reload stays silent"
echo "mroute from r-in source $SENDER4 group 225.1.4.20 to r-out1" >>"$CONF"
out=$(mfcctl reload)
grep -qx "Reloaded: 1 added, 0 changed, 0 removed" <<<"$out" || fail "mfcctl reload printed: $out"
expect_mroute 4 "$SENDER4" 225.1.4.20 r-in r-out1
echo "mroute from r-in source $SENDER4 group 225.1.4.21 to r-out1" >>"$CONF"
ln -sf "$MFCCTL" "$E2E_WORK/smcroutectl"
out=$("$E2E_WORK/smcroutectl" -u "$SOCK" reload)
[ -z "$out" ] || fail "smcroutectl reload printed: $out"
expect_mroute 4 "$SENDER4" 225.1.4.21 r-in r-out1

mfcd_stop
expect_no_mroute_state
