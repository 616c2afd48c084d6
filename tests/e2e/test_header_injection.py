"""Header injection through organization credentials: a credential with CR/LF (or any other
control character) is refused with 400 naming the field, and the provider (the sandbox, by
its /_sandbox/requests inspection API) receives no request carrying an injected header.
A good key still goes through to the provider with its own header only."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import connflow as cf  # noqa: E402
import harness  # noqa: E402


def injected(requests):
    out = []
    for q in requests:
        hs = q.get("headers") or {}
        names = [k.lower() for k in (hs.keys() if isinstance(hs, dict) else
                                     [h[0] if isinstance(h, list) else h for h in hs])]
        if "x-injected" in names or "X-Injected" in json.dumps(q):
            out.append(q)
    return out


class HeaderInjection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # MeetingBaas is the sandbox's emulator under /meetingbaas: every request meetlink
        # makes to it shows in /_sandbox/requests with its headers.
        cls.sb = harness.start_sandbox()
        cls.d = harness.start_daemon(env={
            "MEETLINK_SANDBOX_URL": cls.sb.url, "MEETLINK_VAULT_KEYS": cf.VAULT_KEYS})
        cls.api = harness.Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.sb.close()

    def test_credentials_refuse_control_characters(self):
        cf.http(self.sb.url + "/_sandbox/requests", "DELETE")
        bad = [
            ("meetingbaas", {"api_key": "k1\r\nX-Injected: yes"}, "api_key"),
            ("meetingbaas", {"api_key": "k1\nX-Injected: yes"}, "api_key"),
            ("meetingbaas", {"api_key": "k1\rX-Injected: yes"}, "api_key"),
            ("meetingbaas", {"api_key": "k1\tk2"}, "api_key"),
            ("meetingbaas", {"api_key": "k1\u007f"}, "api_key"),
            ("zoom", {"account_id": "SbxZoomAccount00000001\r\nX-Injected: yes",
                      "client_id": "zoom-s2s-client-id",
                      "client_secret": "zoom-s2s-client-secret"}, "account_id"),
            ("zoom", {"account_id": "SbxZoomAccount00000001", "client_id": "zoom-s2s-client-id",
                      "client_secret": "zoom-s2s-client-secret\r\nX-Injected: yes"},
             "client_secret"),
            ("twilio", {"account_sid": "AC00000000000000000000000000000001",
                        "api_key_sid": "SK00000000000000000000000000000001\r\nX-Injected: yes",
                        "api_key_secret": "SandboxApiKeySecret0000000000001"}, "api_key_sid"),
            ("jaas", {"app_id": "vpaas-magic-cookie-1\r\nX-Injected: yes",
                      "key_id": "vpaas-magic-cookie-1/abc", "private_key": "x"}, "app_id"),
        ]
        for platform, body, field in bad:
            r = self.api.put("/v1/credentials/" + platform, body)
            self.assertEqual(r.status, 400, (platform, body, r))
            self.assertEqual(r.json["error"]["field"], field, r)
            self.assertEqual(self.api.get("/v1/credentials/" + platform).status, 404)
        reqs = cf.sandbox_requests(self.sb, limit=100000)
        self.assertEqual(injected(reqs), [])
        # Nothing reached MeetingBaas at all: the key was refused before any call.
        self.assertEqual([q for q in reqs if q.get("path", "").startswith("/meetingbaas")], [])

        # The log does show what a clean key sends (so the checks above are not vacuous):
        # the key in its own header (redacted by the log), nothing else added. An unknown
        # key is refused by the emulator (422), the sandbox's own key accepted.
        r = self.api.put("/v1/credentials/meetingbaas", {"api_key": "mb-key-1"})
        self.assertEqual(r.status, 422, r)
        r = self.api.put("/v1/credentials/meetingbaas", {"api_key": "mb-sandbox-api-key"})
        self.assertEqual(r.status, 200, r)
        reqs = [q for q in cf.sandbox_requests(self.sb, limit=100000)
                if q.get("path", "").startswith("/meetingbaas")]
        self.assertEqual([(q["path"], q["status"]) for q in reqs],
                         [("/meetingbaas/bots/bots_with_metadata", 401),
                          ("/meetingbaas/bots/bots_with_metadata", 200)])
        self.assertEqual([q["headers"].get("x-meeting-baas-api-key") for q in reqs],
                         ["[redacted]", "[redacted]"])
        self.assertEqual(injected(reqs), [])


if __name__ == "__main__":
    harness.main()
