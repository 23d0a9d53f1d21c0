#!/bin/bash
# JSON-RPC errors over the socket: each bad request gets the right error
# code, the connection stays usable after it, replies come back in request
# order, batches get one array, notifications get nothing.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
CONF

# Requests on one connection, in this order. A notification (no id) and an
# all-good batch element that is a notification get no reply.
requests=(
  '{"jsonrpc":"2.0","id":1,"method":"no.such.method"}'
  '{"jsonrpc":"2.0","id":2,"method":"route.add","params":{"iif":"r-in"}}'
  '{"jsonrpc":"2.0","id":3,"method":"route.list","params":{"bogus":1}}'
  '{"jsonrpc":"2.0","id":4,"method":"route.add","params":{"iif":"r-in","source":"192.0.2.2","group":"not-an-address","oifs":["r-out1"]}}'
  '{"jsonrpc":"2.0","id":5,"method":"route.list","params":[true]}'
  '{"jsonrpc":"2.0","id":6,"method":'
  '{"jsonrpc":"2.0","id":7,"method":"daemon.version"}'
  '[{"jsonrpc":"2.0","id":8,"method":"daemon.version"},{"jsonrpc":"2.0","method":"daemon.version"},{"jsonrpc":"2.0","id":9,"method":"no.such.method"},1]'
  '[]'
  '{"jsonrpc":"1.0","id":11,"method":"daemon.version"}'
  '{"jsonrpc":"2.0","method":"daemon.version"}'
  '{"jsonrpc":"2.0","id":12,"method":"route.list"}'
)
# What each reply line must be (a regex): "id:code" for an error, "id:ok"
# for a result; a batch reply is its elements joined by spaces. An invalid
# request may echo its id or answer with null (JSON-RPC allows both when the
# id is readable).
expected=(
  '1:-32601'
  '2:-32602'
  '3:-32602'
  '4:-32602'
  '5:-32602'
  'null:-32700'
  '7:ok'
  '8:ok 9:-32601 null:-32600'
  'null:-32600'
  '(11|null):-32600'
  '12:ok'
)
# Which method's schema each reply is checked against (unknown methods and
# unparseable requests: any method does, their errors are standard ones).
methods=(daemon.version route.add route.list route.add route.list daemon.version daemon.version
  daemon.version daemon.version daemon.version route.list)

mapfile -t replies < <(rpc_send "${requests[@]}")
[ "${#replies[@]}" -eq "${#expected[@]}" ] || {
  printf 'reply: %s\n' "${replies[@]}" >&2
  fail "expected ${#expected[@]} reply lines, got ${#replies[@]}"
}

summary='if type == "array" then map(.) else [.] end
  | map("\(.id):\(if has("result") then "ok" else .error.code end)") | join(" ")'
for i in "${!expected[@]}"; do
  got=$(jq -r "$summary" <<<"${replies[$i]}") || fail "reply $((i + 1)) is not JSON: ${replies[$i]}"
  [[ $got =~ ^${expected[$i]}$ ]] ||
    fail "request ${requests[$i]:0:80}...: expected ${expected[$i]}, got $got: ${replies[$i]}"
  if [ "$i" -eq 7 ]; then # the batch: each element against its own method
    for j in 0 1 2; do
      jq -c ".[$j]" <<<"${replies[$i]}" | rpc_validate daemon.version || fail "batch element $j"
    done
  else
    rpc_validate "${methods[$i]}" <<<"${replies[$i]}" || fail "reply $((i + 1)) invalid"
  fi
done

# -32602 says which param is wrong.
jq -e '.error.data.param == "group"' <<<"${replies[1]}" >/dev/null ||
  fail "route.add without group: error data does not name the param: ${replies[1]}"
jq -e '.error.data.param == "bogus"' <<<"${replies[2]}" >/dev/null ||
  fail "route.list with an unknown param: error data does not name it: ${replies[2]}"

# An all-notification batch gets no reply line at all; the next request on
# the same connection is answered.
mapfile -t replies < <(rpc_send '[{"jsonrpc":"2.0","method":"daemon.version"}]' \
  '{"jsonrpc":"2.0","id":"last","method":"daemon.version"}')
[ "${#replies[@]}" -eq 1 ] && jq -e '.id == "last" and .result.name == "mfcd"' <<<"${replies[0]}" \
  >/dev/null || fail "after an all-notification batch: expected one reply to id \"last\": ${replies[*]}"

# None of it changed any state.
expect_mroutes 4 </dev/null
rpc_ok route.list | jq -e '.routes.ssm == [] and .routes.asm == []' >/dev/null ||
  fail "bad requests left routes behind"

mfcd_stop
expect_no_mroute_state
