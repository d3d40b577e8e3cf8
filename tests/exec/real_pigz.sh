#!/usr/bin/env bash
# tests/exec/real_pigz.sh CHANLAB [SCHEDULES] — a real program under `chanlab
# exec`: Debian's pigz (parallel gzip; pthreads through its yarn.c), the binary
# package unmodified and dynamically linked, compresses a generated input with
# 4 threads under SCHEDULES PCT schedules (default 100), and the result must be
# the bytes plain pigz writes and decompress to the input.
#   pigz -p 4 -b 32 -k -f FILE   32 KiB blocks, so that ~260 KiB of input is 9
#                                blocks for 4 compressing threads plus pigz's
#                                writer; FILE.gz rather than -c: every schedule
#                                is a whole run of pigz, and what a run writes
#                                to stdout is chanlab's to capture
# Exit 0 when chanlab exec reports PASS (tests/exec/exec_check.py) and the output
# round-trips; 1 otherwise (the verdict and evidence are printed: a bug in pigz
# or in chanlab, either worth a look); 77 (skip) without pigz; 2 bad arguments.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
chanlab=${1:-}
schedules=${2:-100}
[ -n "$chanlab" ] && [ -x "$chanlab" ] || { echo "real_pigz.sh: usage: real_pigz.sh CHANLAB [SCHEDULES]" >&2; exit 2; }
[[ $schedules =~ ^[1-9][0-9]{0,5}$ ]] || { echo "real_pigz.sh: SCHEDULES is 1..999999, not '$schedules'" >&2; exit 2; }
pigz=$(command -v pigz) || { echo "real_pigz.sh: pigz is not installed (./quickstart installs it); skipped"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# ~260 KiB of log-like text, the same every time.
awk 'BEGIN { srand(15); for (i = 0; i < 6000; i++)
             printf "%06d GET /item/%d status=%d bytes=%d\n", i, int(rand() * 5000),
                    (rand() < 0.9 ? 200 : 404), int(rand() * 100000) }' >"$work/input.log"
cp "$work/input.log" "$work/plain.log"

# The reference: plain pigz, same options.
timeout 60 "$pigz" -p 4 -b 32 -k -f "$work/plain.log" || { echo "real_pigz.sh: plain pigz failed"; exit 1; }

echo "real_pigz.sh: $pigz ($(pigz --version 2>&1)) under chanlab exec, $schedules PCT schedules, $(wc -c <"$work/input.log") bytes"
CHANLAB_EXEC_CHECK_TIMEOUT=540 python3 "$here/exec_check.py" "$chanlab" PASS \
  --strategy pct --schedules "$schedules" --seed 1 \
  -- "$pigz" -p 4 -b 32 -k -f "$work/input.log" || exit 1

status=0
if ! cmp -s "$work/input.log.gz" "$work/plain.log.gz" 2>/dev/null; then
  # The name in the gzip header differs (input.log / plain.log): compare the
  # deflate data, which starts after the name's NUL.
  strip() { python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); i = d.index(b"\0", 10); sys.stdout.buffer.write(d[i + 1:])' "$1"; }
  if ! cmp -s <(strip "$work/input.log.gz") <(strip "$work/plain.log.gz"); then
    echo "real_pigz.sh: the compressed stream under chanlab differs from plain pigz's"
    status=1
  fi
fi
if ! timeout 60 gzip -dc "$work/input.log.gz" | cmp -s - "$work/input.log"; then
  echo "real_pigz.sh: the output under chanlab does not decompress to the input"
  status=1
fi
[ $status -eq 0 ] && echo "real_pigz.sh: the output round-trips and matches plain pigz byte for byte"
exit $status
