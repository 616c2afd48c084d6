"""Helpers for the connection tests: the daemon pointed at a sandbox, and the OAuth round trip
a browser makes (connect link → /oauth/{platform}/start → the sandbox's consent → the
callback), driven over HTTP with the state cookie carried by hand."""

import http.client as httpc
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# Tokens the sandbox never issues: the vault key used by these tests.
VAULT_KEYS = "t1:" + "A" * 43 + "="


def http(url, method="GET", body=None, headers=None):
    """One request to an absolute URL; returns (status, headers dict lowercased, body)."""
    u = urllib.parse.urlsplit(url)
    c = httpc.HTTPConnection(u.hostname, u.port, timeout=30)
    path = u.path + ("?" + u.query if u.query else "")
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    h = {}
    for k, v in r.getheaders():
        h.setdefault(k.lower(), v)
    c.close()
    return r.status, h, data


def start(extra_env=None, sandbox_args=None):
    sb = harness.start_sandbox(sandbox_args)
    env = {"MEETLINK_SANDBOX_URL": sb.url, "MEETLINK_VAULT_KEYS": VAULT_KEYS,
           "MEETLINK_LOG_LEVEL": "debug"}
    env.update(extra_env or {})
    d = harness.start_daemon(env=env)
    return sb, d


def sandbox_config(sb, settings):
    st, _, body = http(sb.url + "/_sandbox/config", "POST", json.dumps(settings),
                       {"Content-Type": "application/json"})
    assert st == 200, body


def sandbox_requests(sb, **filters):
    q = urllib.parse.urlencode(filters)
    st, _, body = http(sb.url + "/_sandbox/requests?" + q)
    assert st == 200, body
    return json.loads(body)["requests"]


def make_host(api, email="ada@example.test", name="Ada Lovelace"):
    r = api.post("/v1/hosts", {"name": name, "email": email, "timezone": "Europe/London"})
    assert r.status == 201, r
    return r.json["id"]


def connect_link(api, host_id, platform):
    r = api.post("/v1/hosts/%s/connect-links" % host_id, {"platform": platform})
    assert r.status == 201, r
    return r.json["url"]


def link_token(url):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["t"][0]


def start_flow(d, platform, link):
    """GET /oauth/{platform}/start: returns (authorize URL, cookie 'name=value')."""
    t = link_token(link)
    st, h, body = http("%s/oauth/%s/start?t=%s" % (d.url, platform, urllib.parse.quote(t)))
    assert st == 302, (st, body)
    cookie = h["set-cookie"].split(";", 1)[0]
    return h["location"], cookie


def consent(authorize_url, decision="allow"):
    """The sandbox's consent: auto-approved (config) or sandbox_auto=…; returns the callback
    URL the provider redirects the browser to."""
    sep = "&" if "?" in authorize_url else "?"
    st, h, body = http(authorize_url + sep + "sandbox_auto=" + decision)
    assert st == 302, (st, body[:500])
    return h["location"]


def callback(url, cookie):
    return http(url, headers={"Cookie": cookie} if cookie else {})


def connect(d, api, host_id, platform):
    """The whole round trip; returns the final redirect location."""
    link = connect_link(api, host_id, platform)
    auth, cookie = start_flow(d, platform, link)
    cb = consent(auth)
    st, h, body = callback(cb, cookie)
    assert st == 303, (st, body[:800])
    return h["location"]
