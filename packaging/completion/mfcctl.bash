# bash completion for mfcctl (and smcroutectl, the same program).
#
# Completes options, commands (also after an abbreviation such as "s"),
# the words after "show", and interface names and groups. Interfaces and
# groups are asked from the running daemon (mfcctl -j show ...), through the
# socket that -u / -i on the command line select; without a daemon, or
# when it does not answer within a second (MFCCTL_COMPLETION_TIMEOUT
# seconds, for a slow machine), interface names come from /sys/class/net
# and groups are not offered. The JSON is read with grep and
# sed, so jq is not needed. The loopback interface is not offered: it
# carries no routed multicast (it can still be typed). After "leave IIF"
# only what is joined on IIF is offered, read from "show groups" text.

# _mfcctl_words: the words of the current line before the cursor, without
# options and their arguments. Sets _mfcctl_cmdline_opts to the -u/-i
# options found (to reach the same daemon) and _mfcctl_args to the rest.
_mfcctl_split() {
  _mfcctl_cmdline_opts=()
  _mfcctl_args=()
  local i w after_dashdash=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if ((after_dashdash)); then
      _mfcctl_args+=("$w")
      continue
    fi
    case $w in
      --) after_dashdash=1 ;;
      --socket=* | --ident=*) _mfcctl_cmdline_opts+=("$w") ;;
      --socket | --ident)
        _mfcctl_cmdline_opts+=("$w" "${COMP_WORDS[i + 1]}")
        i=$((i + 1))
        ;;
      -n | --dry-run) _mfcctl_args+=("$w") ;;
      --*) ;;
      -*[ui])
        # A cluster ending in -u or -i: the argument is the next word.
        _mfcctl_cmdline_opts+=("-${w: -1}" "${COMP_WORDS[i + 1]}")
        i=$((i + 1))
        ;;
      -*u* | -*i*)
        # -uFILE / -pdu/run/x.sock: the argument is glued on.
        local rest=${w#-}
        while [ -n "$rest" ] && [[ $rest != [ui]* ]]; do rest=${rest#?}; done
        if [ -n "$rest" ]; then _mfcctl_cmdline_opts+=("-${rest:0:1}" "${rest:1}"); fi
        ;;
      -*) ;;
      *) _mfcctl_args+=("$w") ;;
    esac
  done
}

# _mfcctl_command WORD: the full command name WORD abbreviates, if only one.
_mfcctl_command() {
  local c hit="" n=0
  # set is only ever written in full (mfcctl refuses its prefixes).
  if [ "$1" = set ]; then
    echo set
    return
  fi
  for c in add del explain flush help join kill leave metrics monitor reload remove restart show \
    version; do
    if [ "$c" = "$1" ]; then
      echo "$c"
      return
    fi
    if [[ $c == "$1"* ]]; then
      hit=$c
      n=$((n + 1))
    fi
  done
  if ((n == 1)); then echo "$hit"; fi
  return 0
}

# _mfcctl_query WHAT FIELD: the values of FIELD ("name", "group") in the
# daemon's JSON answer to "show WHAT", one per line, unique.
_mfcctl_query() {
  local prog=${COMP_WORDS[0]} out
  local -a to=()
  if command -v timeout >/dev/null 2>&1; then to=(timeout "${MFCCTL_COMPLETION_TIMEOUT:-1}"); fi
  out=$("${to[@]}" "$prog" "${_mfcctl_cmdline_opts[@]}" -j show "$1" 2>/dev/null) || return 0
  printf '%s\n' "$out" | grep -o "\"$2\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" |
    sed 's/.*:[[:space:]]*"\([^"]*\)"$/\1/' | sort -u
}

_mfcctl_interfaces() {
  local names
  names=$(_mfcctl_query interfaces name)
  if [ -z "$names" ] && [ -d /sys/class/net ]; then
    names=$(command ls /sys/class/net 2>/dev/null)
  fi
  printf '%s\n' "$names" | grep -vx lo
}

# _mfcctl_joined IIF [SOURCE]: what "leave IIF" may take next. Without
# SOURCE: the groups joined on IIF from any source and the sources of the
# source-specific joins there; with SOURCE: the groups joined from SOURCE.
# Read from the rows of "show groups" with no headings, which are
# "(SOURCE, GROUP) IIF" or "(*, GROUP) IIF".
_mfcctl_joined() {
  local prog=${COMP_WORDS[0]} out
  local -a to=()
  if command -v timeout >/dev/null 2>&1; then to=(timeout "${MFCCTL_COMPLETION_TIMEOUT:-1}"); fi
  out=$("${to[@]}" "$prog" "${_mfcctl_cmdline_opts[@]}" -t show groups 2>/dev/null) || return 0
  printf '%s\n' "$out" | awk -v iif="$1" -v src="${2-}" '
    $NF == iif && $1 ~ /^\(/ {
      s = $1; gsub(/[(,]/, "", s)
      g = $2; gsub(/\)/, "", g)
      if (src != "") { if (s == src) print g }
      else if (s == "*") print g
      else print s
    }' | sort -u
}

_mfcctl_groups() {
  { _mfcctl_query routes group; _mfcctl_query groups group; } | sort -u
}

_mfcctl() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local prev=""
  if ((COMP_CWORD > 0)); then prev=${COMP_WORDS[COMP_CWORD - 1]}; fi
  COMPREPLY=()

  # The argument of -u (a socket file) or -i (an identity: a socket in /run),
  # also at the end of a cluster such as -pu.
  case $prev in
    -u | --socket | -[!-]*u)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0
      ;;
    -i | --ident | -[!-]*i)
      local ids
      ids=$(command ls /run/*.sock 2>/dev/null | sed 's|^/run/||; s|\.sock$||')
      mapfile -t COMPREPLY < <(compgen -W "$ids" -- "$cur")
      return 0
      ;;
  esac

  if [[ $cur == -* ]]; then
    _mfcctl_split
    local opts="-b -d -h -i -j -p -S -t -u -v --batch --detail --help --ident --json --plain
                --strict --no-headings --socket --version"
    local cmd=""
    if ((${#_mfcctl_args[@]} > 0)); then cmd=$(_mfcctl_command "${_mfcctl_args[0]}"); fi
    case $cmd in reload | restart) opts="$opts -n --dry-run" ;; esac
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    return 0
  fi

  _mfcctl_split
  local nargs=${#_mfcctl_args[@]}
  if ((nargs == 0)); then
    mapfile -t COMPREPLY < <(compgen -W "add del explain flush help join kill leave metrics
                                         monitor reload remove restart set show version" -- "$cur")
    return 0
  fi

  local cmd
  cmd=$(_mfcctl_command "${_mfcctl_args[0]}")
  case $cmd in
    monitor)
      # Event kinds and categories (docs/api.md, Events).
      mapfile -t COMPREPLY < <(compgen -W "route flow filter wrongvif upcalls interface vif join
        reload clients route.installed route.changed route.removed route.active route.pending
        route.standby filter.added flow.learned flow.changed flow.expired upcalls.lost
        interface.added interface.removed interface.up interface.down vif.added vif.freed
        join.active join.pending join.left join.failed reload.applied reload.refused
        clients.limit" -- "$cur")
      ;;
    explain)
      # SOURCE GROUP [IIF]: sources cannot be guessed; groups the daemon
      # knows can; then the inbound interface.
      if ((nargs == 2)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_mfcctl_groups)" -- "$cur")
      elif ((nargs == 3)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_mfcctl_interfaces)" -- "$cur")
      fi
      ;;
    show)
      if ((nargs == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "groups interfaces pending routes" -- "$cur")
      fi
      ;;
    reload | restart)
      mapfile -t COMPREPLY < <(compgen -W "-n --dry-run" -- "$cur")
      ;;
    leave)
      # Only what is joined: on IIF, then from the SOURCE given.
      if ((nargs == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_mfcctl_interfaces)" -- "$cur")
      elif ((nargs == 2)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_mfcctl_joined "${_mfcctl_args[1]}")" -- "$cur")
      elif ((nargs == 3)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_mfcctl_joined "${_mfcctl_args[1]}" \
          "${_mfcctl_args[2]}")" -- "$cur")
      fi
      ;;
    add | set | remove | del | join)
      # IIF [SOURCE] GROUP [OIF...]: an interface first; then, after an
      # address, interfaces again for the commands that take OIFs.
      local i seen_addr=0
      for ((i = 2; i <= nargs - 1; i++)); do
        if [[ ${_mfcctl_args[i]} == *[.:]* ]]; then seen_addr=1; fi
      done
      if ((nargs == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_mfcctl_interfaces)" -- "$cur")
      elif ((seen_addr == 0)) || [[ $cur == *[.:]* ]]; then
        # Sources cannot be guessed; groups the daemon knows can.
        mapfile -t COMPREPLY < <(compgen -W "$(_mfcctl_groups)" -- "$cur")
      elif [[ $cmd != join ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_mfcctl_interfaces)" -- "$cur")
      fi
      ;;
  esac
  return 0
}

complete -F _mfcctl mfcctl smcroutectl
