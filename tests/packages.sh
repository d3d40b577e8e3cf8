#!/usr/bin/env bash
# tests/packages.sh BUILD_DIR SOURCE_DIR — every system header the build
# included and every system library its programs load belongs to a Debian
# package that ./quickstart installs: one named in its list, or one those
# depend on (Depends/Pre-Depends, followed through the installed packages).
# So a package installed by hand can no longer hide a missing install step
# (it happened: libstb-dev).
#
# CHANLAB_PACKAGES_DROP=PKG checks against the list without PKG; the test
# `packages_negative` uses it to show that the check fails without libstb-dev.
set -euo pipefail
# No pipeline here may end its reader early (head, grep -q, awk exit): the
# writer's SIGPIPE would fail the script under pipefail, at random.
build=$1 src=$(cd "$2" && pwd)
cd "$build"

mapfile -t listed < <("$src/quickstart" packages)
if [ -n "${CHANLAB_PACKAGES_DROP:-}" ]; then
  keep=()
  for p in "${listed[@]}"; do [ "$p" = "$CHANLAB_PACKAGES_DROP" ] || keep+=("$p"); done
  listed=("${keep[@]}")
fi

# The closure of the list under Depends and Pre-Depends (installed packages;
# alternatives "a | b": whichever is installed).
declare -A allowed=()
queue=("${listed[@]}")
while ((${#queue[@]})); do
  p=${queue[0]}; queue=("${queue[@]:1}")
  p=${p%%:*}
  [ -n "${allowed[$p]:-}" ] && continue
  allowed[$p]=1
  deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$p" 2>/dev/null || true)
  IFS=',' read -ra items <<<"$deps"
  for item in "${items[@]}"; do
    IFS='|' read -ra alts <<<"$item"
    for alt in "${alts[@]}"; do
      name=$(echo "$alt" | sed -e 's/(.*)//' -e 's/\[.*\]//' | tr -d ' ')
      name=${name%%:*}
      [ -z "$name" ] && continue
      if [ "$(dpkg-query -W -f='${Status}' "$name" 2>/dev/null || true)" = "install ok installed" ]; then
        queue+=("$name")
        break
      fi
      # A virtual package: whatever installed package provides it.
      # (awk reads to the end: an early exit would kill dpkg-query with
      # SIGPIPE, and pipefail would end the script with status 141.)
      prov=$(dpkg-query -W -f='${Package} ${Provides}\n' 2>/dev/null |
             awk -v n="$name" '!found {for (i = 2; i <= NF; i++) { gsub(/[,(].*/, "", $i); if ($i == n) { found = $1 } } }
                               END { if (found) print found }')
      if [ -n "$prov" ]; then queue+=("$prov"); break; fi
    done
  done
done

# The files: headers from the build's dependency records, libraries that the
# built programs load.
files=$(mktemp)
trap 'rm -f "$files"' EXIT
if [ -f build.ninja ]; then
  ninja -t deps | awk '/^    \//{print $1}' | grep -E '^/usr/' >>"$files" || true
else
  find . -name '*.o.d' -exec cat {} + | tr ' \\' '\n\n' | grep -E '^/usr/' >>"$files" || true
fi
nheaders=$(sort -u "$files" | wc -l)
find . -type f -perm -u+x -print0 | while IFS= read -r -d '' exe; do
  [[ $(file -b "$exe" 2>/dev/null) == ELF* ]] || continue
  ldd "$exe" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}'
done | grep -E '^/(usr/)?lib' >>"$files" || true
# A sanitizer build links clang's static runtime.
if grep -q 'CMAKE_C_COMPILER:.*clang' CMakeCache.txt 2>/dev/null; then
  rt=$(clang -print-runtime-dir 2>/dev/null || true)
  rts=("$rt"/libclang_rt.*.a)
  [ -e "${rts[0]}" ] && echo "${rts[0]}" >>"$files"
fi
sort -u -o "$files" "$files"
nfiles=$(wc -l <"$files")
if [ "$nheaders" -lt 10 ]; then
  echo "packages: only $nheaders system headers found in $build's dependency records; is it built?" >&2
  exit 1
fi

# Owners in one dpkg call per spelling: as written, resolved, and with /usr
# added or taken away (/lib is /usr/lib on Debian 12; dpkg knows one).
declare -A owner=()
lookup() {  # lookup < paths: "path<TAB>spelling" lines; fills owner[path]
  local spell=() orig=() line
  while IFS=$'\t' read -r o sp; do orig+=("$o"); spell+=("$sp"); done
  ((${#spell[@]})) || return 0
  declare -A of=()
  while IFS= read -r line; do
    local pk=${line%%: /*} path=/${line#*: /}
    of[$path]=${pk%%[:,]*}
  done < <(dpkg -S "${spell[@]}" 2>/dev/null || true)
  for i in "${!spell[@]}"; do
    [ -n "${owner[${orig[$i]}]:-}" ] || [ -z "${of[${spell[$i]}]:-}" ] || owner[${orig[$i]}]=${of[${spell[$i]}]}
  done
}
lookup < <(awk '{print $0 "\t" $0}' "$files")
for how in real alt; do
  while read -r f; do
    [ -n "${owner[$f]:-}" ] && continue
    if [ $how = real ]; then printf '%s\t%s\n' "$f" "$(readlink -f "$f")"
    else a=${f#/usr}; [ "$a" = "$f" ] && a=/usr$f; printf '%s\t%s\n' "$f" "$a"; fi
  done <"$files" >"$files.next"
  lookup <"$files.next"
  rm -f "$files.next"
done
bad=0
while read -r f; do
  pkg=${owner[$f]:-}
  if [ -z "$pkg" ]; then
    echo "packages: $f belongs to no Debian package (installed by hand?)"
    bad=1
  elif [ -z "${allowed[$pkg]:-}" ]; then
    echo "packages: $f is from $pkg, which ./quickstart does not install (add it to PACKAGES)"
    bad=1
  fi
done <"$files"
if [ $bad = 0 ]; then
  echo "packages: $nfiles system files ($nheaders headers), all from the ${#listed[@]} listed packages or their dependencies (${#allowed[@]} packages)"
fi
exit $bad
