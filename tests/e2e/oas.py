"""Response-schema validation against the providers' published OpenAPI documents in
ML_SPECS: $refs resolved, OpenAPI 3.0 `nullable` turned into JSON Schema, then Debian's
python3-jsonschema (Draft 7) validates. Used by the sandbox conformance tests."""

import copy
import json
import os

import jsonschema

from harness import SPECS


def load(rel):
    with open(os.path.join(SPECS, rel)) as f:
        return json.load(f)


def _resolve(doc, node, depth=0):
    if depth > 40:
        return node
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/"):
            target = doc
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            return _resolve(doc, copy.deepcopy(target), depth + 1)
        out = {k: _resolve(doc, v, depth + 1) for k, v in node.items()}
        if out.pop("nullable", False):
            t = out.get("type")
            if isinstance(t, str):
                out["type"] = [t, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = out["enum"] + [None]
        if "format" in out and out.get("format") not in ("date-time", "email", "uri"):
            out.pop("format")  # int64, uri-map, http-method...: not JSON Schema formats
        return out
    if isinstance(node, list):
        return [_resolve(doc, x, depth + 1) for x in node]
    return node


def response_schema(doc, path, method, status):
    op = doc["paths"][path][method.lower()]
    content = op["responses"][str(status)]["content"]
    media = content.get("application/json") or next(iter(content.values()))
    return _resolve(doc, media["schema"])


def validate(doc, path, method, status, instance):
    """Raises jsonschema.ValidationError when `instance` breaks the published schema."""
    schema = response_schema(doc, path, method, status)
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        instance)
    return schema


def strict(schema):
    """A copy where every object with `properties` also requires them all to be typed as
    declared and allows no undeclared member: used to check an emulator emits nothing the
    provider's schema does not know. Not applied to Zoom, whose docs list extra fields."""
    s = copy.deepcopy(schema)

    def walk(n):
        if isinstance(n, dict):
            if "properties" in n:
                n["additionalProperties"] = False
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(s)
    return s
