# bash completion for mfcd (and smcrouted, the same program).
#
# Completes the flags, short and long, and the value each one takes: files
# for -f, -F, -P, -S and -u, a command for -e, the log levels for -l, users and
# groups for -p, groups for --socket-group and --admin-group, the identities
# whose configuration exists (/etc/NAME.conf) for -i. Numbers (-c, -d, -m,
# -t) are left to the user.

_mfcd() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local prev=""
  if ((COMP_CWORD > 0)); then prev=${COMP_WORDS[COMP_CWORD - 1]}; fi
  COMPREPLY=()

  # --name=value: complete the value as for "--name value". bash splits the
  # word at "=" (COMP_WORDBREAKS), so the "=" is a word of its own, or the
  # current one right after it is typed.
  if [[ $cur == --*=* ]]; then
    prev=${cur%%=*}
    cur=${cur#*=}
  elif [[ $cur == = ]]; then
    cur=""
  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi

  case $prev in
    -f | --config | -F | --check | -P | --pidfile | -S | --state-file | -u | --socket)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0
      ;;
    -e | --exec)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -c -- "$cur")
      return 0
      ;;
    -l | --loglevel)
      mapfile -t COMPREPLY < <(compgen -W "none err notice info debug" -- "$cur")
      return 0
      ;;
    -p | --user)
      if [[ $cur == *:* ]]; then
        mapfile -t COMPREPLY < <(compgen -P "${cur%%:*}:" -g -- "${cur#*:}")
      else
        mapfile -t COMPREPLY < <(compgen -u -- "$cur")
      fi
      return 0
      ;;
    --socket-group | --admin-group)
      mapfile -t COMPREPLY < <(compgen -g -- "$cur")
      return 0
      ;;
    -i | -I | --ident)
      local ids
      ids=$(command ls /etc/*.conf 2>/dev/null | sed 's|^/etc/||; s|\.conf$||')
      mapfile -t COMPREPLY < <(compgen -W "$ids" -- "$cur")
      return 0
      ;;
    -c | --cache-timeout | -d | --startup-delay | -m | --mrdisc-interval | -t | --table)
      return 0 # a number
      ;;
    --metrics-listen)
      return 0 # ADDR:PORT
      ;;
  esac

  if [[ $cur == --* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "--cache-timeout= --startup-delay= --exec= --config=
        --check= --help --ident= --loglevel= --metrics-listen= --mrdisc-interval= --foreground
        --user= --pidfile= --state-file= --syslog --table= --socket= --version --socket-group=
        --admin-group=" -- "$cur")
    # A name that takes a value: no space after the "=".
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *= ]]; then
      compopt -o nospace 2>/dev/null
    fi
    return 0
  fi
  if [[ $cur == -* || -z $cur ]]; then
    mapfile -t COMPREPLY < <(compgen -W "-c -d -e -f -F -h -i -l -m -n -N -p -P -s -S -t -u -v" \
      -- "$cur")
  fi
  return 0
}

complete -F _mfcd mfcd smcrouted
