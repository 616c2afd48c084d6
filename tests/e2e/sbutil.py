"""Helpers for the sandbox end-to-end tests: a sandbox per test class, the control API, PKCE,
and JSON-schema validation of provider answers against the files in specs/ (the Google
Calendar api-summary and the Graph CSDL types are converted to JSON Schema here).

Validation uses Debian's python3-jsonschema when present; otherwise a small built-in
validator that covers the keywords these converted schemas use (type, properties, required,
additionalProperties, patternProperties, items, enum, pattern, $ref)."""

import base64
import hashlib
import html.parser
import json
import os
import re
import secrets
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import SPECS, Client, main, start_sandbox  # noqa: E402,F401

try:
    import jsonschema  # Debian python3-jsonschema
except ImportError:  # pragma: no cover - exercised only where the package is missing
    jsonschema = None


# ---- JSON Schema validation ------------------------------------------------------------

_TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}


def _is_type(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, _TYPES[t])


def _mini(schema, v, root, path, errors):
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return _mini(root["definitions"][name], v, root, path, errors)
    if "anyOf" in schema:
        if not any(not _collect(s, v, root) for s in schema["anyOf"]):
            errors.append("%s: matches none of anyOf" % path)
        return
    t = schema.get("type")
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        if not any(_is_type(v, x) for x in ts):
            errors.append("%s: %r is not of type %s" % (path, v, t))
            return
    if "enum" in schema and v not in schema["enum"]:
        errors.append("%s: %r is not one of %r" % (path, v, schema["enum"]))
    if "pattern" in schema and isinstance(v, str) and not re.search(schema["pattern"], v):
        errors.append("%s: %r does not match %r" % (path, v, schema["pattern"]))
    if isinstance(v, dict):
        props = schema.get("properties", {})
        for r in schema.get("required", []):
            if r not in v:
                errors.append("%s: %r is a required property" % (path, r))
        for k, x in v.items():
            if k in props:
                _mini(props[k], x, root, path + "." + k, errors)
                continue
            pats = [s for p, s in schema.get("patternProperties", {}).items() if re.search(p, k)]
            for s in pats:
                _mini(s, x, root, path + "." + k, errors)
            if pats:
                continue
            ap = schema.get("additionalProperties", True)
            if ap is False:
                errors.append("%s: additional property %r not allowed" % (path, k))
            elif isinstance(ap, dict):
                _mini(ap, x, root, path + "." + k, errors)
    if isinstance(v, list) and "items" in schema:
        for i, x in enumerate(v):
            _mini(schema["items"], x, root, "%s[%d]" % (path, i), errors)


def _collect(schema, v, root):
    errors = []
    _mini(schema, v, root, "$", errors)
    return errors


def schema_errors(schema, instance):
    """A list of validation error messages (empty when the instance is valid)."""
    if jsonschema is not None:
        v = jsonschema.Draft7Validator(schema)
        return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message)
                for e in v.iter_errors(instance)]
    return _collect(schema, instance, schema)


class SchemaMixin:
    def assertValid(self, schema, instance):
        errs = schema_errors(schema, instance)
        self.assertEqual(errs, [], "answer does not match the published schema:\n%s\n%s" % (
            "\n".join(errs[:20]), json.dumps(instance)[:2000]))


# ---- Google: api-summary -> JSON Schema ------------------------------------------------

# Enumerations that the summary only gives in descriptions.
GOOGLE_ENUMS = {
    ("Event", "status"): ["confirmed", "tentative", "cancelled"],
    ("Event", "visibility"): ["default", "public", "private", "confidential"],
    ("Event", "transparency"): ["opaque", "transparent"],
    ("Event", "eventType"): ["default", "outOfOffice", "focusTime", "workingLocation",
                             "birthday", "fromGmail"],
    ("ConferenceRequestStatus", "statusCode"): ["pending", "success", "failure"],
    ("EntryPoint", "entryPointType"): ["video", "phone", "sip", "more"],
    ("ConferenceSolutionKey", "type"): ["eventHangout", "eventNamedHangout", "hangoutsMeet",
                                        "addOn"],
    ("EventAttendee", "responseStatus"): ["needsAction", "declined", "tentative", "accepted"],
}


def _google_type(t, owner, prop):
    if t.endswith("[]"):
        return {"type": "array", "items": _google_type(t[:-2], owner, None)}
    if t.startswith("Schema$"):
        return {"$ref": "#/definitions/" + t[len("Schema$"):]}
    if t == "string":
        s = {"type": "string"}
        if (owner, prop) in GOOGLE_ENUMS:
            s["enum"] = GOOGLE_ENUMS[(owner, prop)]
        return s
    if t == "number":
        return {"type": "number"}
    if t == "boolean":
        return {"type": "boolean"}
    return {}


def _google_obj(spec, owner):
    props = {}
    for name, p in spec.get("properties", {}).items():
        if p.get("type") == "object" or "properties" in p:
            props[name] = _google_obj(p, owner + "." + name)
        else:
            props[name] = _google_type(p.get("type", "any"), owner, name)
    s = {"type": "object", "properties": props}
    if "additionalProperties" in spec:
        s["additionalProperties"] = spec["additionalProperties"]
    elif props:
        # Strict: an emulator that invents a field fails conformance.
        s["additionalProperties"] = False
    return s


def google_schema(name):
    with open(os.path.join(SPECS, "google", "google-calendar-v3.api-summary.json")) as f:
        doc = json.load(f)
    defs = {n: _google_obj(s, n) for n, s in doc["schemas"].items()}
    return {"$ref": "#/definitions/" + name, "definitions": defs}


def google_error_schema():
    """The error envelope of specs/google/google-calendar-errors.json."""
    with open(os.path.join(SPECS, "google", "google-calendar-errors.json")) as f:
        doc = json.load(f)
    # Beyond the catalogue: invalidParameter is Google's answer to a bad `fields` selector
    # (a standard parameter of every method, not in the Calendar error guide).
    reasons = sorted({e["reason"] for e in doc["errors"]} |
                     {"required", "parseError", "insufficientPermissions", "authError",
                      "invalidParameter"})
    item = {"type": "object", "required": ["domain", "reason", "message"],
            "properties": {"domain": {"type": "string"}, "reason": {"enum": reasons},
                           "message": {"type": "string"},
                           "locationType": {"enum": ["parameter", "header"]},
                           "location": {"type": "string"}},
            "additionalProperties": False}
    return {"type": "object", "required": ["error"], "additionalProperties": False,
            "properties": {"error": {
                "type": "object", "required": ["errors", "code", "message"],
                "additionalProperties": False,
                "properties": {"errors": {"type": "array", "items": item},
                               "code": {"type": "integer"}, "message": {"type": "string"},
                               "status": {"type": "string"}}}}}


# ---- Graph: CSDL types -> JSON Schema --------------------------------------------------

_EDM = {
    "Edm.String": {"type": "string"}, "Edm.Boolean": {"type": "boolean"},
    "Edm.Int32": {"type": "integer"}, "Edm.Int64": {"type": "integer"},
    "Edm.Double": {"type": "number"}, "Edm.Date": {"type": "string",
                                                    "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    "Edm.DateTimeOffset": {"type": "string",
                           "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"},
    "Edm.Stream": {"type": "string"},
}


def _graph_prop(p):
    t = p["type"]
    coll = t.startswith("Collection(")
    if coll:
        t = t[len("Collection("):-1]
    s = dict(_EDM[t]) if t in _EDM else {"$ref": "#/definitions/" + t.split(".", 1)[1]}
    if coll:
        s = {"type": "array", "items": s}
    if p.get("nullable", "true") != "false":
        s = {"anyOf": [s, {"type": "null"}]}
    return s


def graph_schema(name):
    with open(os.path.join(SPECS, "msgraph", "msgraph-v1.0-event-onlinemeeting.types.json")) as f:
        doc = json.load(f)
    types = doc["types"]
    defs = {}
    for n, t in types.items():
        if t["kind"] == "EnumType":
            defs[n] = {"type": "string", "enum": t["members"]}
            continue
        props = {}
        cur = t
        while cur is not None:
            for pn, p in cur.get("properties", {}).items():
                props.setdefault(pn, _graph_prop(p))
            base = cur.get("baseType")
            cur = types.get(base.split(".", 1)[1]) if base else None
        defs[n] = {"type": "object", "properties": props,
                   "patternProperties": {r"^@odata\.": {"type": "string"}}}
        if "note" not in t:  # types whose properties the extract omitted stay open
            defs[n]["additionalProperties"] = False
    return {"$ref": "#/definitions/" + name, "definitions": defs}


GRAPH_ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "message"], "additionalProperties": False,
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "innerError": {"type": "object",
                                      "required": ["date", "request-id"],
                                      "properties": {"date": {"type": "string"},
                                                     "request-id": {"type": "string"},
                                                     "client-request-id": {"type": "string"}}}}}}}

OAUTH_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"enum": ["invalid_request", "invalid_client", "invalid_grant",
                                      "unauthorized_client", "unsupported_grant_type",
                                      "invalid_scope", "invalid_token", "redirect_uri_mismatch"]},
                   "error_description": {"type": "string"}}}


# ---- PKCE and forms ---------------------------------------------------------------------

def pkce():
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(48)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def form(d):
    return urllib.parse.urlencode(d).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.method, self.hidden, self.options, self.selected = None, None, {}, [], None
        self.buttons = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action, self.method = a.get("action"), a.get("method")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value", "")
        elif tag == "option":
            self.options.append(a.get("value"))
            if "selected" in a:
                self.selected = a.get("value")
        elif tag == "button" and a.get("id"):
            self.buttons[a["id"]] = (a.get("name"), a.get("value"))


def consent_form(body):
    """The consent page's form as the browser would submit it: its action's path, method, the
    hidden fields (unescaped), the account choices, the preselected one, and the buttons
    {id: (name, value)}."""
    p = _FormParser()
    p.feed(body.decode() if isinstance(body, bytes) else body)
    return {"path": urllib.parse.urlsplit(p.action or "").path, "method": p.method,
            "hidden": p.hidden, "options": p.options, "selected": p.selected,
            "buttons": p.buttons}


# ---- a sandbox per test class ------------------------------------------------------------

class SandboxTest(unittest.TestCase, SchemaMixin):
    sandbox_args = []

    @classmethod
    def setUpClass(cls):
        cls.sb = start_sandbox(cls.sandbox_args)
        cls.c = Client(cls.sb.host, cls.sb.port)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def setUp(self):
        r = self.c.post("/_sandbox/reset")
        self.assertEqual(r.status, 200, r)

    def config(self, provider, **settings):
        r = self.c.post("/_sandbox/config", {provider: settings})
        self.assertEqual(r.status, 200, r)

    def fault(self, **spec):
        r = self.c.post("/_sandbox/faults", spec)
        self.assertEqual(r.status, 201, r)
        return r.json

    def requests(self, **filters):
        q = urllib.parse.urlencode(filters)
        r = self.c.get("/_sandbox/requests" + ("?" + q if q else ""))
        self.assertEqual(r.status, 200, r)
        return r.json["requests"]

    def state(self, provider):
        r = self.c.get("/_sandbox/state?provider=" + provider)
        self.assertEqual(r.status, 200, r)
        return r.json[provider]

    def client(self, token=None):
        return Client(self.sb.host, self.sb.port, token=token)
