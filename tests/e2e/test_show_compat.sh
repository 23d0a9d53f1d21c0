#!/bin/bash
# `mfcctl -p show ...` prints what SMCRoute's own tests parse (show-format.md):
# the exact regexes of its pending.sh and the whitespace-stripped line of
# its batch.sh, run against a real daemon; the plain rulers; -t; `-j show`
# JSON with the compat field names and types; alignment with long
# interface names and IPv6, and 80 columns for the common case.
. "$(dirname "$0")/lib.sh"
e2e_add_ns router
NS=$(ns_name router)
nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"

# add_if NAME: a veth whose peer stays up in the router (stands in for a
# dummy interface).
add_if() {
  ip -n "$NS" link add "$1" type veth peer name "${1:0:11}-p"
  ip -n "$NS" link set "${1:0:11}-p" up
  ip -n "$NS" link set "$1" up
}

# grep_out WHAT REGEX: some line of $out matches the extended REGEX.
grep_out() { grep -qE -- "$2" <<<"$out" || fail "$1: no line matches '$2' in:"$'\n'"$out"; }

# pending.sh's configuration: the interfaces do not exist yet.
mfcd_start <<CONF
phyint a1 enable
phyint a2 enable
phyint a3 enable
mroute from a1 group 225.1.2.3 to a2
mroute from a2 group 225.7.8.9 to a3
mgroup from a1 group 225.4.5.6
CONF

HAVE_JOINS=1
rpc_send '{"jsonrpc":"2.0","id":1,"method":"group.list"}' | grep -q '"code":-32601' && HAVE_JOINS=

# --- show pending (pending.sh) ---------------------------------------------------
out=$(mfcctl -p show pending)
grep_out "show pending" '^mroute.*from a1.*group 225\.1\.2\.3.*to a2'
grep_out "show pending" '^mroute.*from a2.*group 225\.7\.8\.9.*to a3'
if [ -n "$HAVE_JOINS" ]; then
  grep_out "show pending" '^mgroup.*from a1.*group 225\.4\.5\.6'
else
  say "group.list not answered yet: mgroup line of show pending not checked"
fi
[ "$(head -n1 <<<"$out")" = "PENDING ROUTES AND GROUPS" ] || fail "show pending: first line: $out"
json=$(mfcctl -j show pending)
jq -e '.pending | type == "array" and length >= 2 and
       all(.[]; (.kind | type == "string") and (.iif | type == "string") and
               (.group | type == "string") and has("source") and
               (if .kind == "mroute" then (.oifs | type == "array") else true end))' \
  <<<"$json" >/dev/null || fail "-j show pending lacks compat fields: $json"

# Now the interfaces appear (a1 first, so that it gets VIF 0).
for i in a1 a2 a3; do
  add_if "$i"
  wait_for 10 "VIF for $i" sh -c "ip netns exec $NS cat /proc/net/ip_mr_vif | grep -qw $i"
done
wait_for 10 "nothing pending" sh -c "$MFCCTL -u $SOCK -p show pending 2>/dev/null | grep -q '^No pending'"
out=$(mfcctl -p show pending)
grep_out "show pending, empty" '^No pending'
[ "$(mfcctl -j show pending | jq '.pending | length')" = 0 ] || fail "-j show pending not empty"

# --- show (routes) and show interfaces (pending.sh) --------------------------------
for cmd in "show" "show routes" "show ro" "s r"; do
  # shellcheck disable=SC2086 # split on purpose
  out=$(mfcctl -p $cmd)
  grep_out "-p $cmd" '225\.1\.2\.3.*a1.*a2'
  grep_out "-p $cmd" '225\.7\.8\.9.*a2.*a3'
done
# A bare client with only options also means "show routes".
out=$(mfcctl -pd)
grep_out "-pd (no command)" '225\.1\.2\.3.*a1.*a2'
out=$(mfcctl -p show interfaces)
grep_out "show interfaces" '^[[:space:]]*[0-9]+[[:space:]]+a1[[:space:]]+[0-9]+'
out=$(mfcctl -p show int)
grep_out "show int" '^[[:space:]]*[0-9]+[[:space:]]+a1[[:space:]]+0[[:space:]]'
mfcctl -j show interfaces | jq -e '.interfaces | any(.name == "a1" and .vif == 0)' >/dev/null ||
  fail "-j show interfaces: a1 must have VIF 0: $(mfcctl -j show interfaces)"
mfcctl -j show interfaces | jq -e '.interfaces | all(
    (.index | type == "number") and (.name | type == "string") and
    (.vif == null or (.vif | type == "number")) and (.mif == null or (.mif | type == "number")))
    and any(.name == "lo" and .vif == null)' >/dev/null ||
  fail "-j show interfaces: fields: $(mfcctl -j show interfaces)"
# interface.list one interface a page: the same list, by index (but for
# mrdisc_next, which counts down).
whole=$(rpc_ok interface.list | jq -c '.interfaces | map(del(.mrdisc_next))')
paged=$(rpc_pages interface.list 1) || exit 1
pages=$(wc -l <<<"$paged")
walked=$(jq -sc 'map(.interfaces | map(del(.mrdisc_next))) | add' <<<"$paged")
[ "$walked" = "$whole" ] || fail "interface.list's pages: $walked, whole: $whole"
[ "$pages" -eq "$(jq length <<<"$whole")" ] || fail "interface.list: $pages pages of 1 for $whole"

# --- plain headings: rulers of 79, titles, column headers -----------------
out=$(mfcctl -p show routes)
ruler_=$(printf '_%.0s' $(seq 79))
ruler_eq=$(printf '=%.0s' $(seq 79))
expected_head="$ruler_
(*,G) Template Rules
$ruler_eq
ROUTE (S,G)                                IIF  OIFS
$ruler_eq
(*, 225.1.2.3)                             a1   a2
(*, 225.7.8.9)                             a2   a3"
[ "$(head -n 7 <<<"$out")" = "$expected_head" ] ||
  fail "show routes -p headings differ; expected:"$'\n'"$expected_head"$'\n'"got:"$'\n'"$out"
out=$(mfcctl -p show interfaces)
[ "$(sed -n 2p <<<"$out")" = " INDEX PHYINT  VIF  MIF" ] || fail "show interfaces header: $out"
[ "$(sed -n 1p <<<"$out")" = "$ruler_eq" ] || fail "show interfaces ruler: $out"
# -t drops the headings; no escape codes with -p.
out=$(mfcctl -pt show routes)
! grep -qE '^(_|=)+$|Template|ROUTE' <<<"$out" || fail "-t kept headings: $out"
! mfcctl -p show routes | grep -q $'\033' || fail "-p printed escape codes"
# On a terminal the headings are in reverse video; not on one that cannot
# show it (TERM=dumb), nor with NO_COLOR. Python's pty.spawn gives mfcctl a
# terminal and reads it to the end (script(1) could exit before it had
# read the last output when its input was at end of file).
# The output is read whole before it is searched: pty.spawn copies it in
# chunks, and `| grep -q` leaving at the first match would make its next
# write fail (EPIPE), which pipefail reports as a failure.
on_tty() { "$PYTHON" -c 'import pty, sys; pty.spawn(sys.argv[1:])' "$@" </dev/null; }
out=$(on_tty env TERM=xterm "$MFCCTL" -u "$SOCK" show routes)
grep -q $'\033\\[7m' <<<"$out" || fail "no terminal headings on a terminal"
out=$(on_tty env TERM=dumb "$MFCCTL" -u "$SOCK" show routes)
! grep -q $'\033' <<<"$out" || fail "escape codes on a dumb terminal"
out=$(on_tty env TERM=xterm NO_COLOR=1 "$MFCCTL" -u "$SOCK" show routes)
! grep -q $'\033' <<<"$out" || fail "escape codes with NO_COLOR"

# --- show groups (batch.sh) ------------------------------------------------
if [ -n "$HAVE_JOINS" ]; then
  mfcctl join a2 225.3.3.3
  mfcctl join a3 192.0.2.10 232.1.1.1
  out=$(mfcctl -p show groups)
  [ "$(grep 225.4.5.6 <<<"$out" | tr -d '[:space:]')" = "(*,225.4.5.6)a1" ] || fail "groups: $out"
  [ "$(grep 225.3.3.3 <<<"$out" | tr -d '[:space:]')" = "(*,225.3.3.3)a2" ] || fail "groups: $out"
  [ "$(grep 232.1.1.1 <<<"$out" | tr -d '[:space:]')" = "(192.0.2.10,232.1.1.1)a3" ] ||
    fail "groups: $out"
  mfcctl -j show groups | jq -e '.groups.conf | length >= 3 and all(
      (.group | type == "string") and (.iif | type == "string") and
      (.source == null or (.source | type == "string")))' >/dev/null ||
    fail "-j show groups: $(mfcctl -j show groups)"
  mfcctl -j show groups | jq -e '.groups | has("kernel")' >/dev/null || fail "-j show groups: no kernel"
else
  say "group.list/group.join not answered yet: show groups not checked"
fi

# --- -j show routes: compat fields -------------------------------------------------
mfcctl add a1 192.0.2.1 225.5.5.5 a2 a3
for cmd in "show" "show routes"; do
  # shellcheck disable=SC2086
  json=$(mfcctl -j $cmd)
  jq -e '.routes | (.asm | type == "array") and (.ssm | type == "array") and
         (.kernel | type == "array") and
         all(.asm[], .ssm[], .kernel[]; (.iif | type == "string") and
             (.group | type == "string") and (.oifs | type == "array") and has("source")) and
         all(.asm[]; .source == null) and all(.ssm[]; .source | type == "string") and
         any(.ssm[]; .source == "192.0.2.1" and .group == "225.5.5.5" and .oifs == ["a2", "a3"]) and
         any(.asm[]; .group == "225.1.2.3" and .iif == "a1" and .oifs == ["a2"])' \
    <<<"$json" >/dev/null || fail "-j $cmd lacks compat fields: $json"
done

# --- alignment with long names and IPv6; 80 columns otherwise ---------------------
out=$(mfcctl -p show routes)
awk 'length($0) > 80 {exit 1}' <<<"$out" || fail "IPv4 show routes wider than 80 columns:"$'\n'"$out"
longname=wan-iptv-vlan10  # 15 characters, IFNAMSIZ - 1
add_if "$longname"
mfcctl add "$longname" 2001:db8:ffff:ffff:ffff:ffff:ffff:1 ff3e::8000:1 a2 a3
mfcctl add a1 192.0.2.1 225.6.6.6 "$longname"
out=$(mfcctl -p show routes)
# In every section the IIF column starts where the header's IIF does, and
# the OIF list where the header's OIFS does.
"$PYTHON" - "$out" <<'EOF' || fail "show routes not aligned:"$'\n'"$out"
import sys
lines = sys.argv[1].split("\n")
header = next(l for l in lines if l.startswith("ROUTE (S,G)"))
iif_col, oifs_col = header.index(" IIF") + 1, header.index("  OIFS") + 2
rows = [l for l in lines if l.startswith("(") and ", " in l]  # not the "(*,G) ..." titles
assert rows, "no rows"
for r in rows:
    assert r[iif_col - 1] == " " and r[iif_col] != " ", ("IIF column", r)
    assert r[oifs_col - 1] == " " and r[oifs_col] != " ", ("OIFS column", r)
EOF
out=$(mfcctl -p show interfaces)
"$PYTHON" - "$out" <<'EOF' || fail "show interfaces not aligned:"$'\n'"$out"
import sys
lines = [l for l in sys.argv[1].split("\n") if l and not l.startswith("=")]
header, rows = lines[0], lines[1:]
vif_end = header.index(" VIF") + 4
mif_end = header.index(" MIF") + 4
for r in rows:
    assert len(r) == mif_end, ("row length", r)
    assert r[vif_end - 1] != " " and r[vif_end] == " ", ("VIF column", r)
EOF
mfcd_stop
