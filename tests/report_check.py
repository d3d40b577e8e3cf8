#!/usr/bin/env python3
"""tests/report_check.py DIR [--expect ID.MODE ...] — checks a report folder
that `chanlab prove --html DIR` or `chanlab run ID --html DIR` wrote, with
python3's standard library only:

  every *.trace.json is Chrome trace-event JSON as Perfetto and
  chrome://tracing read it: an object with traceEvents; every event has
  name, ph, pid, tid (and ts unless metadata); B/E balanced per track and
  never ending what was not begun; every flow id has one "s" and one "f",
  f not before s, each end inside a slice of its own track; every track
  used is named (thread_name);
  index.html has a row per page, each page's link resolves, and the rows
  named with --expect are there;
  each page's SVG timeline has one lane per task, as many as its trace has
  tracks;
  nothing refers outside the folder (no http(s) src/href but the Perfetto
  link, no @import, no external script).
Exit status 0 when all holds; otherwise one line per problem, status 1."""
import html.parser
import json
import os
import re
import sys

problems = []


def bad(where, what):
    problems.append(f"{where}: {what}")


def check_trace(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        bad(path, f"not JSON: {e}")
        return None
    evs = doc.get("traceEvents") if isinstance(doc, dict) else None
    if not isinstance(evs, list) or not evs:
        bad(path, "no traceEvents list")
        return None
    named, used = set(), set()
    tracks = {}
    flows = {}
    for k, e in enumerate(evs):
        for field in ("ph", "pid", "tid"):
            if field not in e:
                bad(path, f"event {k} lacks {field}")
        ph = e.get("ph")
        if ph not in ("M", "E") and "name" not in e:
            bad(path, f"event {k} lacks name")
        if ph != "M" and not isinstance(e.get("ts"), (int, float)):
            bad(path, f"event {k} lacks a numeric ts")
        key = (e.get("pid"), e.get("tid"))
        if ph == "M":
            if e.get("name") == "thread_name":
                named.add(key)
            continue
        if ph in ("B", "E"):
            used.add(key)
            tracks.setdefault(key, []).append((e["ts"], ph, k))
        elif ph in ("s", "f"):
            if "id" not in e:
                bad(path, f"flow event {k} lacks id")
            flows.setdefault(e.get("id"), []).append(e)
        elif ph == "i":
            pass
        else:
            bad(path, f"event {k}: unexpected phase {ph!r}")
    spans = {}
    for key, seq in tracks.items():
        depth, opened, out = 0, [], []
        for ts, ph, k in seq:   # in file order, as a trace viewer reads one track
            if ph == "B":
                depth += 1
                opened.append(ts)
            else:
                depth -= 1
                if depth < 0:
                    bad(path, f"track {key}: E without B (event {k})")
                    depth = 0
                    continue
                t0 = opened.pop()
                if ts < t0:
                    bad(path, f"track {key}: E before its B (event {k})")
                out.append((t0, ts))
        if depth:
            bad(path, f"track {key}: {depth} B without E")
        spans[key] = out
    for key in used:
        if key not in named:
            bad(path, f"track {key} has no thread_name")
    for fid, ends in flows.items():
        phs = sorted(e["ph"] for e in ends)
        if phs != ["f", "s"]:
            bad(path, f"flow {fid}: ends {phs}, want one s and one f")
            continue
        s = next(e for e in ends if e["ph"] == "s")
        f = next(e for e in ends if e["ph"] == "f")
        if f["ts"] < s["ts"]:
            bad(path, f"flow {fid}: f before s")
        for e in (s, f):
            key = (e["pid"], e["tid"])
            if not any(t0 <= e["ts"] <= t1 for t0, t1 in spans.get(key, [])):
                bad(path, f"flow {fid}: its {e['ph']} end is in no slice of track {key}")
    return len(named)


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.rows, self.svgs, self.lanes = [], [], [], []
        self.external = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for attr in ("src", "href"):
            v = a.get(attr) or ""
            if re.match(r"^(https?:)?//", v) and "ui.perfetto.dev" not in v:
                self.external.append(v)
        if tag == "script" and a.get("src"):
            self.external.append(a["src"])
        if tag == "a" and a.get("href") and not a["href"].startswith(("#", "http")):
            self.links.append(a["href"])
        if tag == "tr" and a.get("data-variant"):
            self.rows.append(f'{a["data-variant"]}.{a.get("data-mode")}')
        if tag == "svg" and "tl" in (a.get("class") or "").split():
            self.svgs.append(int(a.get("data-tasks", "-1")))
            self.lanes.append(0)
        if tag == "g" and "lane" in (a.get("class") or "").split() and self.lanes:
            self.lanes[-1] += 1
        self.in_style = tag == "style"

    def handle_data(self, data):
        if self.in_style and ("@import" in data or "url(http" in data):
            self.external.append("CSS import")


def parse(path):
    p = Page()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    d = sys.argv[1]
    expect = sys.argv[3:] if len(sys.argv) > 2 and sys.argv[2] == "--expect" else []
    index = os.path.join(d, "index.html")
    if not os.path.exists(index):
        bad(d, "no index.html")
        return report()
    ix = parse(index)
    for e in ix.external:
        bad(index, f"refers outside the folder: {e}")
    for want in expect:
        if want not in ix.rows:
            bad(index, f"no row for {want}")
    if len(ix.rows) != len(ix.links):
        bad(index, f"{len(ix.rows)} rows but {len(ix.links)} page links")
    for link in ix.links:
        page = os.path.join(d, link)
        if not os.path.exists(page):
            bad(index, f"link to missing {link}")
            continue
        pg = parse(page)
        for e in pg.external:
            bad(page, f"refers outside the folder: {e}")
        trace = page[: -len(".html")] + ".trace.json"
        tracks = check_trace(trace) if os.path.exists(trace) else None
        if len(pg.svgs) > 1:
            bad(page, f"{len(pg.svgs)} timelines")
        for declared, lanes in zip(pg.svgs, pg.lanes):
            if declared != lanes:
                bad(page, f"timeline declares {declared} tasks but draws {lanes} lanes")
            if tracks is not None and tracks != lanes:
                bad(page, f"timeline has {lanes} lanes, its trace {tracks} tracks")
        if tracks is not None and not pg.svgs:
            bad(page, "a trace but no timeline")
    return report()


def report():
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
