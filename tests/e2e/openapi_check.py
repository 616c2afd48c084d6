"""Validates real requests and responses against the published OpenAPI document.

    import openapi_check
    doc = openapi_check.load()                      # docs/openapi.json, or pass your own dict
    openapi_check.validate(doc, "GET", "/v1/hosts/{id}", 200, body_json)
    openapi_check.validate_request(doc, "POST", "/v1/hosts", body_json)

Uses Debian's python3-jsonschema (Draft 2020-12, the dialect of OpenAPI 3.1); `$ref`s to
`#/components/...` are resolved inside the document. Raises OpenAPIMismatch on any
disagreement: an operation or status the document does not list, a content type it does not
declare, or a body its schema refuses (with every error, not only the first)."""

import json
import os
import re

import jsonschema
from jsonschema import Draft202012Validator

DOC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                        "openapi.json")

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class OpenAPIMismatch(AssertionError):
    pass


def load(path=DOC_PATH):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# python3-jsonschema checks "date-time" only with an extra package; RFC 3339 is simple enough.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("date-time")
def _is_datetime(value):
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    mo, d, h, mi, s = (int(value[5:7]), int(value[8:10]), int(value[11:13]), int(value[14:16]),
                       int(value[17:19]))
    return 1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60


def _deref(doc, obj):
    """Follows local `$ref`s ("#/components/responses/NotFound") until a concrete object."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            raise OpenAPIMismatch("non-local $ref %r" % ref)
        cur = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(cur, dict) or part not in cur:
                raise OpenAPIMismatch("unresolvable $ref %r" % ref)
            cur = cur[part]
        obj = cur
        seen += 1
        if seen > 20:
            raise OpenAPIMismatch("$ref loop at %r" % ref)
    return obj


def _validator(doc, schema):
    resolver = jsonschema.RefResolver(base_uri="", referrer=doc)
    return Draft202012Validator(schema, resolver=resolver, format_checker=_FORMATS)


def _check(doc, schema, instance, where):
    errors = sorted(_validator(doc, schema).iter_errors(instance),
                    key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for e in errors[:20]:
            loc = "/".join(str(p) for p in e.absolute_path) or "(root)"
            lines.append("  at %s: %s  [schema: %s]" % (
                loc, e.message, "/".join(str(p) for p in e.absolute_schema_path)))
        raise OpenAPIMismatch("%s does not match the document:\n%s\nbody: %s" % (
            where, "\n".join(lines), json.dumps(instance)[:2000]))


def operation(doc, method, path_template):
    """The operation object for METHOD path_template, or None."""
    item = doc.get("paths", {}).get(path_template)
    if item is None:
        return None
    return item.get(method.lower())


def response_object(doc, method, path_template, status):
    """The response object the document declares for this status (exact, then 4XX, then
    default). A 405 on a documented path uses components.responses.MethodNotAllowed."""
    item = doc.get("paths", {}).get(path_template)
    if item is None:
        raise OpenAPIMismatch("path %s is not in the document" % path_template)
    op = item.get(method.lower())
    if op is None:
        if status == 405:
            r = doc.get("components", {}).get("responses", {}).get("MethodNotAllowed")
            if r is None:
                raise OpenAPIMismatch("405 answered but components.responses.MethodNotAllowed "
                                      "is missing")
            return _deref(doc, r)
        raise OpenAPIMismatch("%s %s is not an operation of the document" % (method,
                                                                            path_template))
    responses = op.get("responses", {})
    for key in (str(status), "%dXX" % (status // 100), "default"):
        if key in responses:
            if key == "default" and status < 500:
                # `default` is documented for server failures only: a 4xx must be listed.
                break
            return _deref(doc, responses[key])
    raise OpenAPIMismatch("%s %s answered %d, which the document does not list (it lists %s)"
                          % (method, path_template, status, ", ".join(sorted(responses))))


def validate(doc, method, path_template, status, body_json, content_type="application/json"):
    """Validates a real response: its status must be documented for the operation and its
    body must match that response's schema. For non-JSON content (text/calendar) pass the
    body text and the content type. Returns the schema used."""
    r = response_object(doc, method, path_template, status)
    content = r.get("content")
    if not content:
        if body_json not in (None, "", b""):
            raise OpenAPIMismatch("%s %s %d: the document declares no body" % (
                method, path_template, status))
        return None
    base = content_type.split(";")[0].strip().lower()
    media = content.get(base)
    if media is None:
        raise OpenAPIMismatch("%s %s %d: content type %s is not declared (declared: %s)" % (
            method, path_template, status, base, ", ".join(content)))
    schema = media.get("schema")
    if schema is None:
        return None
    _check(doc, schema, body_json, "response to %s %s (%d)" % (method, path_template, status))
    return schema


def validate_request(doc, method, path_template, body_json):
    """Validates a request body against the operation's requestBody schema."""
    op = operation(doc, method, path_template)
    if op is None:
        raise OpenAPIMismatch("%s %s is not an operation of the document" % (method,
                                                                            path_template))
    rb = _deref(doc, op.get("requestBody"))
    if rb is None:
        if body_json is not None:
            raise OpenAPIMismatch("%s %s takes no request body" % (method, path_template))
        return
    if body_json is None:
        if rb.get("required"):
            raise OpenAPIMismatch("%s %s requires a body" % (method, path_template))
        return
    schema = rb["content"]["application/json"]["schema"]
    _check(doc, schema, body_json, "request body of %s %s" % (method, path_template))


def check_document(doc):
    """Sanity of the document itself: every $ref resolves and every component schema is a
    valid Draft 2020-12 schema. Returns the list of (METHOD, path) operations."""
    def walk(o):
        if isinstance(o, dict):
            if "$ref" in o:
                _deref(doc, o)
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(doc)
    for name, s in doc.get("components", {}).get("schemas", {}).items():
        try:
            Draft202012Validator.check_schema(s)
        except jsonschema.SchemaError as e:
            raise OpenAPIMismatch("components.schemas.%s is not a valid schema: %s" % (
                name, e.message))
    ops = []
    for path, item in doc.get("paths", {}).items():
        for m in METHODS:
            if m in item:
                ops.append((m.upper(), path))
    return ops
