#!/usr/bin/env python3
"""tests/json_schema_check.py SCHEMA FILE... — validates JSON files against a
JSON Schema, with python3's standard library only. It knows the keywords
reports/results.schema.json uses: type, const, enum, required, properties,
additionalProperties (false or a schema), items, minimum, oneOf and local
$ref ("#/$defs/NAME"); an unknown keyword in the schema is an error, so the
schema cannot silently outgrow the validator. --self-test checks that it
rejects what it must. Exit status 0 when every file is valid."""
import json
import sys

KNOWN = {"$schema", "$id", "title", "description", "type", "const", "enum", "required",
         "properties", "additionalProperties", "items", "minimum", "oneOf", "$ref", "$defs"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def errors(schema, value, root, path="$"):
    unknown = set(schema) - KNOWN
    if unknown:
        yield f"{path}: schema uses unknown keywords {sorted(unknown)}"
        return
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            yield f"{path}: non-local $ref {ref}"
            return
        yield from errors(root["$defs"][ref[len('#/$defs/'):]], value, root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            yield f"{path}: {json.dumps(value)[:60]} is not {' or '.join(types)}"
            return
    if "const" in schema and value != schema["const"]:
        yield f"{path}: {json.dumps(value)[:60]} is not {json.dumps(schema['const'])}"
    if "enum" in schema and value not in schema["enum"]:
        yield f"{path}: {json.dumps(value)[:60]} is not one of {schema['enum']}"
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        yield f"{path}: {value} < {schema['minimum']}"
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not list(errors(s, value, root, path)))
        if n != 1:
            yield f"{path}: matches {n} of oneOf's schemas, not 1"
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                yield f"{path}: lacks {k}"
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                yield from errors(props[k], v, root, f"{path}.{k}")
            elif schema.get("additionalProperties") is False:
                yield f"{path}: unexpected property {k}"
            elif isinstance(schema.get("additionalProperties"), dict):
                yield from errors(schema["additionalProperties"], v, root, f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            yield from errors(schema["items"], v, root, f"{path}[{i}]")


def validate(schema, doc):
    return list(errors(schema, doc, schema))


def self_test(schema, doc):
    """Each mutation of a valid document must be rejected."""
    import copy
    mutations = {
        "no schema_version": lambda d: d.pop("schema_version"),
        "schema_version 2": lambda d: d.__setitem__("schema_version", 2),
        "unknown top-level key": lambda d: d.__setitem__("extra", 1),
        "bad verdict": lambda d: d["results"][0].__setitem__("observed", "FINE"),
        "line as text": lambda d: d["variants"][0].__setitem__("line", "12"),
        "result lacks mode": lambda d: d["results"][0].pop("mode"),
    }
    bad = []
    for name, mutate in mutations.items():
        d = copy.deepcopy(doc)
        mutate(d)
        if not validate(schema, d):
            bad.append(name)
    return bad


def main():
    args = sys.argv[1:]
    selftest = "--self-test" in args
    args = [a for a in args if a != "--self-test"]
    if len(args) < 2:
        print(__doc__)
        return 2
    with open(args[0], encoding="utf-8") as f:
        schema = json.load(f)
    status = 0
    for path in args[1:]:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        errs = validate(schema, doc)
        for e in errs[:20]:
            print(f"{path}: {e}")
        status |= bool(errs)
        if selftest and "results" in doc and doc["results"]:
            missed = self_test(schema, doc)
            for m in missed:
                print(f"{path}: the validator accepted a document with {m}")
            status |= bool(missed)
    return status


if __name__ == "__main__":
    sys.exit(main())
