#!/usr/bin/python3
"""Check JSON-RPC replies against mfcd's OpenRPC document.

The OpenRPC document (schema/mfcd.openrpc.json) is the contract; this tool
lets the end-to-end tests and the daemon's self-check hold the daemon to it.

  rpc_schema.py methods SCHEMA                  "NAME ACCESS" per method, sorted
  rpc_schema.py validate SCHEMA METHOD          reply on stdin: result or error ok?
  rpc_schema.py validate-log SCHEMA FILE...     every "METHOD<TAB>REPLY" line of each FILE ok?
  rpc_schema.py validate-params SCHEMA METHOD   params object on stdin ok?
  rpc_schema.py check SCHEMA                    the document itself well-formed?

Exit status: 0 valid, 1 invalid (reasons on stderr), 2 usage or unreadable input.

A reply is valid when its envelope is JSON-RPC 2.0 and either its result
matches the method's result schema, or its error is {code, message, data?}
where an mfcd code (-32000..-32099) is one the method declares and its data
matches that error's x-data-schema (an extension: OpenRPC's error objects
carry a sample value, not a schema). A batch reply (array) is checked element
by element against the same method.

Also usable as a module: load(), method_names(), validate_reply(),
validate_params() and check() return lists of problems (empty = fine).
"""

import json
import sys

import jsonschema

STANDARD_CODES = {-32700, -32600, -32601, -32602, -32603}
SERVER_RANGE = range(-32099, -32000 + 1)
MAX_REPORTED = 20


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def method_names(doc):
    return sorted(m["name"] for m in doc.get("methods", []))


def method_access(doc):
    """"NAME ACCESS" lines, sorted: what mfcd --list-methods prints."""
    return sorted(f"{m['name']} {m.get('x-access', '?')}" for m in doc.get("methods", []))


def resolve(doc, ref):
    """Follows a local "#/a/b" reference; raises KeyError if it dangles."""
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise KeyError(f"not a local reference: {ref!r}")
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"unresolved reference: {ref}")
    return node


def deref(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(doc, node["$ref"])
    return node


def find_method(doc, name):
    for m in doc.get("methods", []):
        if m.get("name") == name:
            return m
    return None


def _validator(doc, schema):
    resolver = jsonschema.RefResolver(base_uri="", referrer=doc)
    return jsonschema.Draft7Validator(schema, resolver=resolver)


def _where(prefix, path):
    out = prefix
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _schema_problems(doc, schema, value, prefix):
    errors = sorted(_validator(doc, schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    problems = []
    for e in errors[:MAX_REPORTED]:
        problems.append(f"{_where(prefix, e.absolute_path)}: {e.message}")
    if len(errors) > MAX_REPORTED:
        problems.append(f"... and {len(errors) - MAX_REPORTED} more")
    return problems


def _declared_errors(doc, method):
    declared = {}
    for e in method.get("errors", []):
        e = deref(doc, e)
        declared[e["code"]] = e
    return declared


def _error_by_code(doc, code):
    for e in doc.get("components", {}).get("errors", {}).values():
        if e.get("code") == code:
            return e
    return None


def _check_error(doc, method, error, prefix):
    if not isinstance(error, dict):
        return [f"{prefix}: must be an object"]
    problems = []
    extra = set(error) - {"code", "message", "data"}
    if extra:
        problems.append(f"{prefix}: unexpected members {sorted(extra)}")
    code = error.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        return problems + [f"{prefix}.code: must be an integer, got {code!r}"]
    if not isinstance(error.get("message"), str):
        problems.append(f"{prefix}.message: must be a string")
    declared = _declared_errors(doc, method)
    spec = declared.get(code)
    if code in SERVER_RANGE:
        if spec is None:
            problems.append(f"{prefix}.code: {code} is not declared for {method['name']} "
                            f"(declares {sorted(declared)})")
            spec = _error_by_code(doc, code)
    elif code in STANDARD_CODES:
        spec = spec or _error_by_code(doc, code)
    else:
        problems.append(f"{prefix}.code: {code} is neither a JSON-RPC nor an mfcd code")
    if spec is not None and "x-data-schema" in spec:
        if "data" not in error:
            problems.append(f"{prefix}: error {code} must carry data")
        else:
            problems += _schema_problems(doc, spec["x-data-schema"], error["data"], f"{prefix}.data")
    return problems


def validate_event(doc, note):
    """An events.subscribe notification: no id, method "event", params an Event."""
    if not isinstance(note, dict):
        return ["notification: must be an object"]
    problems = []
    if note.get("jsonrpc") != "2.0" or note.get("method") != "event" or "id" in note:
        problems.append("notification: needs jsonrpc \"2.0\", method \"event\" and no id")
    extra = set(note) - {"jsonrpc", "method", "params"}
    if extra:
        problems.append(f"notification: unexpected members {sorted(extra)}")
    event = {"$ref": "#/components/schemas/Event"}
    return problems + _schema_problems(doc, event, note.get("params"), "params")


def validate_reply(doc, method_name, reply):
    """The reply to METHOD; "event" checks an event notification instead."""
    if method_name == "event":
        return validate_event(doc, reply)
    method = find_method(doc, method_name)
    if method is None:
        return [f"no method {method_name!r} in the schema"]
    if isinstance(reply, list):
        if not reply:
            return ["reply: an empty array is never a valid reply"]
        problems = []
        for i, one in enumerate(reply):
            problems += [f"[{i}] {p}" for p in validate_reply(doc, method_name, one)]
        return problems
    if not isinstance(reply, dict):
        return ["reply: must be an object"]
    problems = []
    if reply.get("jsonrpc") != "2.0":
        problems.append(f"reply.jsonrpc: must be \"2.0\", got {reply.get('jsonrpc')!r}")
    if "id" not in reply:
        problems.append("reply.id: missing")
    elif not (reply["id"] is None or isinstance(reply["id"], (str, int, float))) or isinstance(
            reply["id"], bool):
        problems.append(f"reply.id: must be a string, number or null, got {reply['id']!r}")
    extra = set(reply) - {"jsonrpc", "id", "result", "error"}
    if extra:
        problems.append(f"reply: unexpected members {sorted(extra)}")
    has_result, has_error = "result" in reply, "error" in reply
    if has_result == has_error:
        return problems + ["reply: needs exactly one of result and error"]
    if has_result:
        problems += _schema_problems(doc, method["result"]["schema"], reply["result"], "result")
    else:
        problems += _check_error(doc, method, reply["error"], "error")
    return problems


def params_schema(doc, method):
    """The method's by-name params as one JSON Schema object (unknown refused)."""
    properties, required = {}, []
    for p in method.get("params", []):
        p = deref(doc, p)
        properties[p["name"]] = p["schema"]
        if p.get("required"):
            required.append(p["name"])
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


def validate_params(doc, method_name, params):
    method = find_method(doc, method_name)
    if method is None:
        return [f"no method {method_name!r} in the schema"]
    return _schema_problems(doc, params_schema(doc, method), params, "params")


def _walk_refs(node, path, out):
    if isinstance(node, dict):
        if "$ref" in node:
            out.append((path, node["$ref"]))
        for k, v in node.items():
            _walk_refs(v, f"{path}/{k}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk_refs(v, f"{path}/{i}", out)


def _check_schema(schema, where, problems):
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        problems.append(f"{where}: not a valid JSON Schema: {e.message}")


def check(doc):
    problems = []
    if not isinstance(doc, dict):
        return ["document: must be an object"]
    if not isinstance(doc.get("openrpc"), str) or not doc["openrpc"].startswith("1."):
        problems.append("openrpc: must be a 1.x version string")
    info = doc.get("info")
    if not isinstance(info, dict) or not all(isinstance(info.get(k), str) for k in ("title", "version")):
        problems.append("info: needs string title and version")

    refs = []
    _walk_refs(doc, "#", refs)
    dangling = False
    for where, ref in refs:
        try:
            resolve(doc, ref)
        except (KeyError, ValueError, IndexError) as e:
            problems.append(f"{where}: {e.args[0] if e.args else e}")
            dangling = True
    if dangling:
        return problems  # the checks below would trip over the same refs

    components = doc.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        _check_schema(schema, f"components.schemas.{name}", problems)
    codes = {}
    for name, e in components.get("errors", {}).items():
        if not isinstance(e.get("code"), int) or not isinstance(e.get("message"), str):
            problems.append(f"components.errors.{name}: needs integer code and string message")
            continue
        if e["code"] in codes:
            problems.append(f"components.errors.{name}: code {e['code']} also used by {codes[e['code']]}")
        codes[e["code"]] = name
        if "x-data-schema" in e:
            _check_schema(e["x-data-schema"], f"components.errors.{name}.x-data-schema", problems)

    methods = doc.get("methods")
    if not isinstance(methods, list) or not methods:
        return problems + ["methods: must be a non-empty array"]
    seen = set()
    for i, m in enumerate(methods):
        name = m.get("name") if isinstance(m, dict) else None
        where = f"methods[{i}]" if not isinstance(name, str) else f"method {name}"
        if not isinstance(name, str):
            problems.append(f"{where}: needs a string name")
            continue
        if name in seen:
            problems.append(f"{where}: defined twice")
        seen.add(name)
        if m.get("x-access") not in ("read", "write"):
            problems.append(f"{where}: x-access must be \"read\" or \"write\"")
        if m.get("paramStructure") != "by-name":
            problems.append(f"{where}: paramStructure must be \"by-name\"")
        params = m.get("params")
        if not isinstance(params, list):
            problems.append(f"{where}: needs a params array")
        else:
            names = set()
            for j, p in enumerate(params):
                p = deref(doc, p)
                if not isinstance(p.get("name"), str) or "schema" not in p:
                    problems.append(f"{where}.params[{j}]: needs a name and a schema")
                    continue
                if p["name"] in names:
                    problems.append(f"{where}.params[{j}]: {p['name']} twice")
                names.add(p["name"])
                _check_schema(p["schema"], f"{where}.params.{p['name']}", problems)
        result = m.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("name"), str) or "schema" not in result:
            problems.append(f"{where}: needs a result with a name and a schema")
        else:
            _check_schema(result["schema"], f"{where}.result", problems)
        for j, e in enumerate(m.get("errors", [])):
            e = deref(doc, e)
            if not isinstance(e, dict) or not isinstance(e.get("code"), int):
                problems.append(f"{where}.errors[{j}]: needs an integer code")
    return problems


def _read_stdin_json(what):
    text = sys.stdin.read()
    try:
        return json.loads(text)
    except ValueError as e:
        print(f"rpc_schema: {what} on stdin is not JSON: {e}: {text[:200]!r}", file=sys.stderr)
        sys.exit(2)


def validate_log(doc, path):
    """Problems of every reply in a log of "METHOD<TAB>REPLY" lines.

    The end-to-end tests log each reply they get and check them all with one
    run of this tool when the test ends: one Python start-up per test instead
    of one per call, which under the test bed's emulated CPU was most of a
    test's time (1.6 s a call)."""
    problems = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            method, tab, text = line.partition("\t")
            if not tab:
                problems.append(f"line {number}: no METHOD<TAB>REPLY: {line[:200]!r}")
                continue
            try:
                reply = json.loads(text)
            except ValueError as e:
                problems.append(f"line {number}: reply to {method} is not JSON: {e}: {text[:200]!r}")
                continue
            found = validate_reply(doc, method, reply)
            if found:
                problems += [f"line {number}: reply to {method}: {p}" for p in found]
                problems.append(f"line {number}: the reply was: {text[:2000]}")
    return problems


def _report(problems, what):
    if problems:
        for p in problems:
            print(f"rpc_schema: {what}: {p}", file=sys.stderr)
        return 1
    return 0


def main(argv):
    usage = ("usage: rpc_schema.py methods SCHEMA | validate SCHEMA METHOD | "
             "validate-log SCHEMA FILE... | validate-params SCHEMA METHOD | check SCHEMA")
    if len(argv) < 3:
        print(usage, file=sys.stderr)
        return 2
    command, path = argv[1], argv[2]
    try:
        doc = load(path)
    except (OSError, ValueError) as e:
        print(f"rpc_schema: cannot read {path}: {e}", file=sys.stderr)
        return 2
    if command == "methods" and len(argv) == 3:
        for line in method_access(doc):
            print(line)
        return 0
    if command == "check" and len(argv) == 3:
        return _report(check(doc), path)
    if command == "validate" and len(argv) == 4:
        reply = _read_stdin_json("reply")
        return _report(validate_reply(doc, argv[3], reply), argv[3])
    if command == "validate-log" and len(argv) >= 4:
        # Every file, so that one run reports all of them.
        status = 0
        for log in argv[3:]:
            try:
                status = max(status, _report(validate_log(doc, log), log))
            except OSError as e:
                print(f"rpc_schema: cannot read {log}: {e}", file=sys.stderr)
                status = 2
        return status
    if command == "validate-params" and len(argv) == 4:
        params = _read_stdin_json("params")
        return _report(validate_params(doc, argv[3], params), argv[3])
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
