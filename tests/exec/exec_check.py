#!/usr/bin/env python3
"""tests/exec/exec_check.py — runs `chanlab exec --json` on one program and
checks its verdict, for the exec suite (tests/exec/exec.cmake).

  exec_check.py CHANLAB EXPECT [--check-replay] [--check-exhausted] [--check-evidence TEXT]... [EXEC OPTIONS...] -- PROGRAM [ARGS...]

EXPECT is PASS or the verdict the run must report (DEADLOCK, CRASH, LEAK, ...).
  PASS      exit status 0; the run's verdict PASS; as many schedules run as
            --schedules asked, or the space exhausted
  VERDICT   exit status 1; the run's verdict VERDICT
--check-replay     (a bug) also replays the failing schedule with `chanlab exec
             --replay SCHEDULE --json` and requires the same verdict again
--check-exhausted  (PASS) the search must report that it covered its bounded space
--check-evidence TEXT  (a bug; repeatable) TEXT appears in the result's message,
             dump or output: the assertion's text, the blocking call, TSan's report
Every chanlab run is bounded (CHANLAB_EXEC_CHECK_TIMEOUT seconds, default 240).
Exit status 0 when every check holds, 1 when one does not (each says why), 2
for bad arguments.

The JSON read is the results.json of `chanlab run --json`
(reports/results.schema.json): the verdict is results[0].observed, the
failing schedule results[0].schedule, schedules_run and exhausted beside them.
A top-level "verdict"/"observed" is accepted as well, for a result written
flat. If the program's own output shares stdout with the JSON, the last JSON
object on stdout is the one read.
"""
import json
import os
import subprocess
import sys

VERDICTS = {"PASS", "LEAK", "DEADLOCK", "HANG", "PANIC", "RACE", "WRONG_RESULT",
            "NONDETERMINISTIC", "RESOURCE", "SLOW", "CRASH"}
TIMEOUT = float(os.environ.get("CHANLAB_EXEC_CHECK_TIMEOUT", "240"))


def usage(msg):
    print(f"exec_check.py: {msg}\nusage: exec_check.py CHANLAB EXPECT [--check-replay] [--check-exhausted] "
          "[--check-evidence TEXT]... [EXEC OPTIONS...] -- PROGRAM [ARGS...]", file=sys.stderr)
    sys.exit(2)


def last_json_object(text):
    """The JSON document on stdout, or the last object that parses in it."""
    try:
        doc = json.loads(text)
        if isinstance(doc, dict):
            return doc
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    found = None
    for i, ch in enumerate(text):
        if ch == "{" and (i == 0 or text[i - 1] == "\n"):
            try:
                doc, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            if isinstance(doc, dict):
                found = doc
    return found


def result_of(doc):
    """The run's result object: results[0], or the document itself."""
    results = doc.get("results")
    if isinstance(results, list) and results and isinstance(results[0], dict):
        return results[0]
    return doc


def verdict_of(result):
    for key in ("observed", "verdict"):
        v = result.get(key)
        if isinstance(v, str):
            return v
        if isinstance(v, list) and v and isinstance(v[0], str):
            return v[0]
    return None


def run_exec(chanlab, options, program):
    cmd = [chanlab, "exec", "--json", *options, "--", *program]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT, text=True, errors="replace")
    except subprocess.TimeoutExpired:
        return cmd, None, None, f"no answer within {TIMEOUT:.0f} s"
    doc = last_json_object(p.stdout)
    if doc is None:
        return cmd, p.returncode, None, ("no JSON object on stdout; stdout began:\n" + p.stdout[:2000]
                                         + "\nstderr:\n" + p.stderr[:2000])
    return cmd, p.returncode, doc, None


def main(argv):
    if len(argv) < 3:
        usage("CHANLAB and EXPECT are required")
    chanlab, expect = argv[1], argv[2]
    if expect not in VERDICTS:
        usage(f"unknown verdict '{expect}' (known: {', '.join(sorted(VERDICTS))})")
    rest = argv[3:]
    if "--" not in rest:
        usage("'-- PROGRAM' is missing")
    cut = rest.index("--")
    options, program = rest[:cut], rest[cut + 1:]
    if not program:
        usage("no PROGRAM after '--'")
    want_replay = "--check-replay" in options
    want_exhausted = "--check-exhausted" in options
    options = [o for o in options if o not in ("--check-replay", "--check-exhausted")]
    evidence = []
    while "--check-evidence" in options:
        i = options.index("--check-evidence")
        if i + 1 >= len(options):
            usage("--check-evidence takes a text")
        evidence.append(options[i + 1])
        del options[i:i + 2]
    if evidence and expect == "PASS":
        usage("--check-evidence is for a bug")
    if want_replay and expect == "PASS":
        usage("--check-replay is for a bug")
    if want_exhausted and expect != "PASS":
        usage("--check-exhausted is for PASS")

    failures = []
    cmd, rc, doc, err = run_exec(chanlab, options, program)
    shown = " ".join(cmd)
    if err:
        print(f"FAIL {shown}: {err}")
        return 1
    result = result_of(doc)
    verdict = verdict_of(result)
    want_rc = 0 if expect == "PASS" else 1
    if rc != want_rc:
        failures.append(f"exit status {rc}, expected {want_rc}")
    if verdict is None:
        failures.append("no verdict in the JSON (looked for results[0].observed, observed, verdict)")
    elif verdict != expect:
        failures.append(f"verdict {verdict}, expected {expect}")
    if expect == "PASS":
        ran = result.get("schedules_run")
        exhausted = result.get("exhausted")
        asked = None
        if "--schedules" in options:
            asked = int(options[options.index("--schedules") + 1])
        if want_exhausted and exhausted is not True:
            failures.append(f"the search did not report its space exhausted (exhausted={exhausted!r}, "
                            f"schedules_run={ran!r})")
        elif (asked is not None and isinstance(ran, int) and ran < asked and exhausted is not True):
            failures.append(f"only {ran} of {asked} schedules run, space not exhausted")
    if expect != "PASS" and verdict == expect:
        texts = [result.get(k) for k in ("message", "dump", "output")]
        seen = "\n".join(t for t in texts if isinstance(t, str))
        for text in evidence:
            if text not in seen:
                failures.append(f"'{text}' is not in the result's message, dump or output")
    if want_replay and verdict == expect:
        schedule = result.get("schedule")
        if not isinstance(schedule, str) or not schedule:
            failures.append("no failing schedule in the JSON (results[0].schedule) to replay")
        else:
            rcmd, rrc, rdoc, rerr = run_exec(chanlab, ["--replay", schedule], program)
            if rerr:
                failures.append(f"replay {' '.join(rcmd)}: {rerr}")
            else:
                rverdict = verdict_of(result_of(rdoc))
                if rrc != 1 or rverdict != expect:
                    failures.append(f"replay of {schedule}: exit status {rrc}, verdict {rverdict}; "
                                    f"expected 1, {expect}")
    if failures:
        print(f"FAIL {shown}")
        for f in failures:
            print(f"  {f}")
        msg = result.get("message")
        if isinstance(msg, str) and msg:
            print(f"  message: {msg}")
        dump = result.get("dump")
        if isinstance(dump, str) and dump:
            print("  dump:\n" + dump[:4000])
        return 1
    extra = ""
    if isinstance(result.get("schedules_run"), int):
        extra = f", {result['schedules_run']} schedules"
    print(f"ok {shown}: {verdict}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
