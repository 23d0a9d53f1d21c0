#!/bin/bash
# The bash completion of mfcctl (packaging/completion/mfcctl.bash): sources
# it and asks for completions the way bash does (COMP_WORDS, COMP_CWORD,
# then the function), first with no daemon to talk to, then, as root, with
# a daemon in a network namespace whose interfaces and groups it must
# offer. Without root only the first half runs, and the test reports a skip.
# Also the completion of mfcd itself (packaging/completion/mfcd.bash).
set -euo pipefail

SRC=${MFCD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${MFCD_BUILD_DIR:-$SRC/build}
COMPLETION=$SRC/packaging/completion/mfcctl.bash
DAEMON_COMPLETION=$SRC/packaging/completion/mfcd.bash

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# shellcheck source=../../packaging/completion/mfcctl.bash
. "$COMPLETION"
[ "$(complete -p mfcctl)" = "complete -F _mfcctl mfcctl" ] || fail "mfcctl has no completion"
# shellcheck source=../../packaging/completion/mfcd.bash
. "$DAEMON_COMPLETION"
[ "$(complete -p mfcd)" = "complete -F _mfcd mfcd" ] || fail "mfcd has no completion"
[ "$(complete -p smcrouted)" = "complete -F _mfcd smcrouted" ] || fail "smcrouted has no completion"

# complete_line LINE: the completions bash would offer at the end of LINE
# (a trailing space means a new, empty word), one per line, sorted. Runs in
# a subshell without errexit, as in an interactive shell.
complete_line() {
  (
    set +eu
    local line=$1
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    # The program the completion asks for interfaces and groups.
    [ -n "${PROG:-}" ] && COMP_WORDS[0]=$PROG
    COMPREPLY=()
    if [ "${line%% *}" = mfcd ]; then
      _mfcd mfcd "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    else
      _mfcctl mfcctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    fi
    printf '%s\n' "${COMPREPLY[@]}" | grep -v '^$' | sort || true
  )
}

# words TEXT: the lines of TEXT on one line.
words() { tr '\n' ' ' <<<"$1" | sed 's/ $//'; }

# expect LINE WORD...: the completions of LINE are exactly WORDs.
expect() {
  local line=$1
  shift
  local want got
  want=$(printf '%s\n' "$@" | sort)
  got=$(complete_line "$line")
  [ "$got" = "$want" ] || fail "completing '$line': expected [$(words "$want")], got [$(words "$got")]"
  echo "ok: '$line' -> $(words "$got")"
}

# expect_has LINE WORD...: the completions of LINE include every WORD.
expect_has() {
  local line=$1 got w
  shift
  got=$(complete_line "$line")
  for w in "$@"; do
    grep -qx -- "$w" <<<"$got" || fail "completing '$line': '$w' missing from [$(words "$got")]"
  done
  echo "ok: '$line' has $*"
}

# expect_lacks LINE WORD...: the completions of LINE include no WORD.
expect_lacks() {
  local line=$1 got w
  shift
  got=$(complete_line "$line")
  for w in "$@"; do
    ! grep -qx -- "$w" <<<"$got" || fail "completing '$line': '$w' offered in [$(words "$got")]"
  done
  echo "ok: '$line' lacks $*"
}

# --- no daemon: the grammar alone, and graceful degradation ----------------

# A socket nobody listens on: the queries fail fast and quietly.
NOSOCK=/tmp/mfcd-completion-$$.sock
PROG=$BUILD/mfcctl
[ -x "$PROG" ] || PROG=/bin/false

expect "mfcctl sh" show
expect "mfcctl show " groups interfaces pending routes
expect "mfcctl show i" interfaces
# "s" runs show, but set begins with it too: both are offered, and "se"
# completes to set (which must be typed in full).
expect "mfcctl s" set show
expect "mfcctl se" set
expect "mfcctl re" reload remove restart
expect "mfcctl -pd sh" show
expect "mfcctl -u $NOSOCK show " groups interfaces pending routes
expect "mfcctl s " groups interfaces pending routes
expect "mfcctl show routes " # nothing after the table name
expect_has "mfcctl reload -" -n --dry-run
expect "mfcctl reload " -n --dry-run
expect_has "mfcctl --" --json --plain --socket --ident --no-headings --batch --detail --strict
expect_has "mfcctl -" -b -d -j -p -S -t -u -i
expect_has "mfcctl " add set remove del join leave show flush reload kill version help metrics \
  monitor explain
expect "mfcctl e" explain
# Abbreviations complete to the full word, kill and flush too (only typing
# them short is refused).
expect "mfcctl k" kill
expect "mfcctl m" metrics monitor
expect "mfcctl mo" monitor
expect_has "mfcctl monitor " route interface.up reload.refused
expect "mfcctl monitor route.a" route.active
expect "mfcctl fl" flush
# No daemon: interface names come from this machine, but for lo.
# shellcheck disable=SC2046
expect "mfcctl -u $NOSOCK add " $(ls /sys/class/net | grep -vx lo)
expect_lacks "mfcctl -u $NOSOCK add l" lo
# No daemon: no group to offer, and no error either.
expect "mfcctl -u $NOSOCK remove eth0 2"
expect "mfcctl -u $NOSOCK leave eth0 "
# Completion must not print anything of its own (it would garble the line).
out=$(complete_line "mfcctl -u $NOSOCK join eth0 " 2>&1 >/dev/null)
[ -z "$out" ] || fail "completion wrote to stderr: $out"

# mfcd's own flags and their values.
expect_has "mfcd -" -f -F -l -n -s -i -p -t -u -h -v
expect "mfcd --logl" --loglevel=
expect "mfcd --metr" --metrics-listen=
expect "mfcd -l " none err notice info debug
expect "mfcd -l n" none notice
expect "mfcd --loglevel=d" debug
expect "mfcd -n -s -l i" info
expect "mfcd -f $DAEMON_COMPLETION" "$DAEMON_COMPLETION"
expect "mfcd -F ${DAEMON_COMPLETION%.bash}" "$DAEMON_COMPLETION"
expect "mfcd --config=${DAEMON_COMPLETION%.bash}" "$DAEMON_COMPLETION"
expect_has "mfcd -p ro" root
expect "mfcd -t "
expect "mfcd --socket-g" --socket-group=
expect "mfcd --adm" --admin-group=
expect_has "mfcd --socket-group ro" root
expect_has "mfcd --admin-group=ro" root
expect "mfcd -n -c "

# --- with a daemon ----------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the part with a daemon needs root (network namespaces)"
  exit 77
fi

# From here on the e2e harness: namespaces, mfcd, cleanup.
# shellcheck source=lib.sh
. "$SRC/tests/e2e/lib.sh"
set +E
trap - ERR
topo
mfcd_start <<EOF2
mroute from r-in source 192.0.2.2 group 225.1.2.3 to r-out1
mroute from r-in group 225.7.0.0/16 to r-out2
mgroup from r-in group 225.4.5.6
mgroup from r-in source 192.0.2.9 group 232.1.1.1
mgroup from r-out1 group 225.9.9.9
EOF2

PROG=$MFCCTL
# The daemon's answers must come within the completion's timeout: one
# second on a host, more on an emulated CPU with a sanitizer build, whose
# first start also reads the binary in from the host (a CI run timed out).
export MFCCTL_COMPLETION_TIMEOUT=$E2E_SLOWDOWN
# Interface names of the router namespace come from the daemon: this
# namespace has no r-out1.
[ ! -e /sys/class/net/r-out1 ] || fail "r-out1 exists outside the router namespace"
expect_has "mfcctl -u $SOCK add " r-in r-out1 r-out2
expect_lacks "mfcctl -u $SOCK add " lo
expect_has "mfcctl -pu $SOCK add r-" r-in r-out1 r-out2
expect_has "mfcctl --socket=$SOCK add r-in 225.1.2.3 " r-out1 r-out2
expect_has "mfcctl -u $SOCK remove r-in " 225.1.2.3 225.7.0.0/16
expect "mfcctl -u $SOCK remove r-in 225.1" 225.1.2.3
# leave offers only what is joined on that interface (show groups): the
# ASM groups and the sources of SSM joins, then the groups of a source.
expect "mfcctl -u $SOCK leave r-in " 192.0.2.9 225.4.5.6
expect "mfcctl -u $SOCK leave r-in 192.0.2.9 " 232.1.1.1
expect "mfcctl -u $SOCK leave r-in 225.4.5.6 "
expect "mfcctl -u $SOCK leave r-out1 " 225.9.9.9
expect "mfcctl -u $SOCK leave r-out2 "
expect "mfcctl -u $SOCK join r-in 225.4.5.6 "
mfcd_stop
