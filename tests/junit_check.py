#!/usr/bin/env python3
"""tests/junit_check.py FILE... — junit.xml as the strict JUnit schema (Ant's
junit.xsd) has it, with python3's standard library only: it parses; the
elements are testsuites > testsuite > testcase > failure|error|system-out;
each carries only the attributes that schema allows (testsuites/testsuite:
name, tests, failures, errors, time; testcase: name, classname, time;
failure/error: message, type); counts add up; no attribute value holds a raw
line break (XML would turn it into a space: they must be &#10;)."""
import re
import sys
import xml.etree.ElementTree as ET

ALLOWED = {
    "testsuites": {"name", "tests", "failures", "errors", "time"},
    "testsuite": {"name", "tests", "failures", "errors", "time"},
    "testcase": {"name", "classname", "time"},
    "failure": {"message", "type"},
    "error": {"message", "type"},
    "system-out": set(),
}
CHILDREN = {"testsuites": {"testsuite"}, "testsuite": {"testcase"},
            "testcase": {"failure", "error", "system-out"}}


def check(path):
    problems = []
    raw = open(path, encoding="utf-8").read()
    for m in re.finditer(r'\s[\w-]+="([^"]*)"', raw):
        if "\n" in m.group(1) or "\t" in m.group(1):
            problems.append(f"raw line break or tab in attribute: {m.group(0)[:60]!r}")
    root = ET.fromstring(raw)
    if root.tag != "testsuites":
        problems.append(f"root is {root.tag}")

    def walk(el):
        extra = set(el.attrib) - ALLOWED.get(el.tag, set())
        if el.tag not in ALLOWED:
            problems.append(f"unexpected element {el.tag}")
        elif extra:
            problems.append(f"{el.tag} has attributes the strict schema rejects: {sorted(extra)}")
        for c in el:
            if c.tag not in CHILDREN.get(el.tag, set()):
                problems.append(f"{c.tag} inside {el.tag}")
            walk(c)
    walk(root)
    for s in root.iter("testsuite"):
        cases = s.findall("testcase")
        if int(s.get("tests", -1)) != len(cases):
            problems.append(f"testsuite {s.get('name')}: tests={s.get('tests')}, has {len(cases)}")
        if int(s.get("failures", -1)) != sum(1 for c in cases if c.find("failure") is not None):
            problems.append(f"testsuite {s.get('name')}: failures do not add up")
    return [f"{path}: {p}" for p in problems]


def main():
    problems = [p for path in sys.argv[1:] for p in check(path)]
    for p in problems:
        print(p)
    return 1 if problems or len(sys.argv) < 2 else 0


if __name__ == "__main__":
    sys.exit(main())
