# Shared by the benchmark scripts (sourced).

# write_config N FILE IIF OIF...: phyint lines for every interface, then N
# static routes from IIF to the OIFs, every (S,G) distinct (the shape of
# bench_startup's configs).
write_config() {
  local n=$1 conf=$2 iif=$3
  shift 3
  {
    for i in "$iif" "$@"; do printf 'phyint %s enable\n' "$i"; done
    awk -v n="$n" -v iif="$iif" -v oifs="$*" 'BEGIN {
      for (i = 0; i < n; i++) {
        s = i % 1000; g = i + 1
        printf "mroute from %s source 198.18.%d.%d group 225.%d.%d.%d to %s\n", iif,
          int(s / 250), s % 250 + 1, int(g / 65536) % 256, int(g / 256) % 256, g % 256, oifs
      }
    }'
  } >"$conf"
}

now_us() { echo $(($(date +%s%N) / 1000)); }
