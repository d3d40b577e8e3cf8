#!/usr/bin/env bash
# prove_proofs.sh CHANLAB FAMILY — issue 16 §2: in `chanlab prove`, every
# controlled observation whose search saw nothing carries a proof, decided
# from what was observed: each correct variant of FAMILY is proved ("kind"
# exhausted or bounded, with its count in the message), no buggy variant has
# a proof (its search found the bug first), and a proof's summary is what the
# text table says. The JSON is checked against reports/results.schema.json by
# the report tests; here, the proof's meaning.
set -euo pipefail
chanlab=$1 family=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
timeout 300 "$chanlab" prove --family "$family" --json "$out/p.json" > "$out/table.txt" || status=$?
[ "$status" -eq 0 ] || { echo "prove_proofs: chanlab prove --family $family exited $status"; cat "$out/table.txt"; exit 1; }
python3 - "$out/p.json" "$out/table.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
table = open(sys.argv[2]).read()
variants = {v["id"]: v for v in d["variants"]}
bad = []
proved = 0
for o in d["results"]:
    if o["mode"] != "controlled":
        continue
    correct = variants[o["id"]].get("fixed_by") is None
    p = o.get("proof")
    if correct:
        if not p or p["kind"] not in ("exhausted", "bounded"):
            bad.append("%s: correct, but no completed proof: %r" % (o["id"], p))
            continue
        if p["summary"] not in o["message"] or p["summary"] not in table:
            bad.append("%s: the proof %r is not in the message or the table" % (o["id"], p["summary"]))
        if p["kind"] == "exhausted" and not p["summary"].startswith("all %d interleaving" % p["schedules"]):
            bad.append("%s: summary %r does not say all %d" % (o["id"], p["summary"], p["schedules"]))
        proved += 1
    elif p:
        bad.append("%s: buggy (observed %s), yet a proof ran: %r" % (o["id"], o["observed"], p))
for b in bad:
    print("prove_proofs:", b)
print("prove_proofs: %d correct variants proved" % proved)
sys.exit(1 if bad or not proved else 0)
PY
