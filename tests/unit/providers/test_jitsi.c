/* The jitsi driver: deterministic unguessable rooms, personal links, prosody HS256 tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/jwt.h"
#include "providers/provider.h"

static const uint8_t secret[] = "room-secret-for-tests";

static struct ml_platform_settings settings(void)
{
	struct ml_platform_settings s = {0};
	s.jitsi_domain = "meet.jit.si";
	s.join_early_seconds = 900;
	s.join_late_seconds = 3600;
	s.room_secret = secret;
	s.room_secret_len = sizeof(secret) - 1;
	return s;
}

static struct ml_meeting_req req(const char *org, const char *bkg)
{
	struct ml_meeting_req r = {0};
	r.org_id = org;
	r.booking_id = bkg;
	r.title = "Math tutoring: Ünïcode & Co!";
	r.start = 1800000000;
	r.end = 1800003000;
	r.timezone = "Europe/London";
	return r;
}

static const struct ml_provider_ops *drv(void)
{
	const struct ml_provider_ops *o = ml_provider_find("jitsi");
	assert_non_null(o);
	return o;
}

static void room_charset(const char *room)
{
	assert_true(strlen(room) > 26 && strlen(room) < 64);
	for (const char *p = room; *p; p++)
		assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
}

static void test_registry(void **state)
{
	(void)state;
	assert_non_null(ml_provider_find("jitsi"));
	assert_non_null(ml_provider_find("jaas"));
	assert_non_null(ml_provider_find("manual"));
	assert_null(ml_provider_find("skype"));
	assert_null(ml_provider_find(NULL));
	const char *names[] = {"jitsi", "jaas", "google_meet", "zoom", "teams", "twilio", "manual"};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		assert_true(ml_platform_known(names[i]));
	assert_false(ml_platform_known("webex"));
	assert_false(ml_platform_known(""));
	size_t n = 0;
	for (const struct ml_provider_ops *const *p = ml_provider_all(); *p; p++, n++) {
		assert_int_equal((*p)->abi, ML_PROVIDER_ABI);
		assert_non_null((*p)->label);
		assert_ptr_equal(ml_provider_find((*p)->name), *p);
	}
	assert_true(n >= 3);
	assert_true(drv()->caps & ML_CAP_LOCAL);
	assert_true(drv()->caps & ML_CAP_PERSONAL);

	struct ml_perr e = {0};
	assert_int_equal(ml_perr_set(&e, ML_PERR_RETRY, 503, "rate_limited", "try in %d s", 5),
	                 ML_EUNAVAIL);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	assert_int_equal(e.http_status, 503);
	assert_string_equal(e.code, "rate_limited");
	assert_string_equal(e.message, "try in 5 s");
	assert_true(ml_perr_set(&e, ML_PERR_PERMANENT, 0, "x", "y") < 0);
	assert_true(ml_perr_set(&e, ML_PERR_GONE, 404, "x", "y") < 0);
	assert_true(ml_perr_set(&e, ML_PERR_REAUTH, 401, "x", "y") < 0);
	ml_meeting_clear(NULL);
}

static void test_room_deterministic(void **state)
{
	(void)state;
	struct ml_platform_settings s = settings();
	struct ml_provider_ctx cx = {&s, 1700000000};
	struct ml_meeting_req r1 = req("org_1", "bkg_1"), r2 = req("org_1", "bkg_2"),
	                      r3 = req("org_2", "bkg_1"), r4 = req("org_1b", "kg_1");
	struct ml_meeting a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
	struct ml_perr err = {0};

	assert_int_equal(drv()->meeting_create(&cx, &r1, &a, &err), 0);
	assert_int_equal(drv()->meeting_create(&cx, &r1, &b, &err), 0);
	assert_string_equal(a.join_url, b.join_url);
	assert_string_equal(a.external_id, b.external_id);
	room_charset(a.external_id);
	assert_int_equal(strncmp(a.external_id, "math-tutoring-n-code-co-", 24), 0);
	char expect[128];
	snprintf(expect, sizeof(expect), "https://meet.jit.si/%s", a.external_id);
	assert_string_equal(a.join_url, expect);
	assert_non_null(a.host_url);

	assert_int_equal(drv()->meeting_create(&cx, &r2, &c, &err), 0);
	assert_int_equal(drv()->meeting_create(&cx, &r3, &d, &err), 0);
	assert_int_equal(drv()->meeting_create(&cx, &r4, &e, &err), 0);
	assert_string_not_equal(a.join_url, c.join_url);
	assert_string_not_equal(a.join_url, d.join_url);
	assert_string_not_equal(a.join_url, e.join_url);
	ml_meeting_clear(&c);
	ml_meeting_clear(&d);
	ml_meeting_clear(&e);

	/* Another server secret: another room, so names cannot be guessed from ids. */
	static const uint8_t other[] = "another";
	s.room_secret = other;
	s.room_secret_len = 7;
	assert_int_equal(drv()->meeting_create(&cx, &r1, &c, &err), 0);
	assert_string_not_equal(a.join_url, c.join_url);
	ml_meeting_clear(&c);
	s = settings();

	/* Regenerate: a new generation, a new room. */
	r1.generation = 1;
	assert_int_equal(drv()->meeting_create(&cx, &r1, &c, &err), 0);
	assert_string_not_equal(a.join_url, c.join_url);
	ml_meeting_clear(&c);
	r1.generation = 0;

	/* Reschedule (and a title change) keeps the link. */
	r1.start += 86400;
	r1.end += 86400;
	r1.title = "Renamed";
	r1.external_id = a.external_id;
	r1.join_url = a.join_url;
	assert_int_equal(drv()->meeting_update(&cx, &r1, &c, &err), 0);
	assert_string_equal(c.join_url, a.join_url);
	assert_string_equal(c.external_id, a.external_id);
	ml_meeting_clear(&c);
	assert_int_equal(drv()->meeting_delete(&cx, &r1, &err), 0);

	/* Custom domain, empty title. */
	s.jitsi_domain = "meet.example.com";
	r2.title = NULL;
	assert_int_equal(drv()->meeting_create(&cx, &r2, &c, &err), 0);
	assert_int_equal(strncmp(c.join_url, "https://meet.example.com/meeting-", 33), 0);
	ml_meeting_clear(&c);

	ml_meeting_clear(&a);
	ml_meeting_clear(&b);
	assert_null(a.join_url);
}

static void test_not_configured(void **state)
{
	(void)state;
	struct ml_platform_settings s = settings();
	s.room_secret = NULL;
	struct ml_provider_ctx cx = {&s, 1700000000};
	struct ml_meeting_req r = req("org_1", "bkg_1");
	struct ml_meeting m = {0};
	struct ml_perr err = {0};
	assert_true(drv()->meeting_create(&cx, &r, &m, &err) < 0);
	assert_int_equal(err.kind, ML_PERR_PERMANENT);
	assert_string_equal(err.code, "platform_not_configured");
	assert_null(m.join_url);
}

static void test_public_personal_links(void **state)
{
	(void)state;
	struct ml_platform_settings s = settings();
	struct ml_provider_ctx cx = {&s, 1700000000};
	struct ml_meeting_req r = req("org_1", "bkg_1");
	struct ml_meeting m = {0};
	struct ml_perr err = {0};
	char *u1 = NULL, *u2 = NULL;
	assert_int_equal(drv()->meeting_create(&cx, &r, &m, &err), 0);

	struct ml_participant_ref host = {"prt_1", "host", "Ada \"The\" Lovelace",
	                                  "ada@example.com"};
	struct ml_participant_ref cust = {"prt_2", "customer", "Zoë", NULL};
	assert_int_equal(drv()->participant_url(&cx, &r, &m, &host, &u1, &err), 0);
	assert_int_equal(drv()->participant_url(&cx, &r, &m, &cust, &u2, &err), 0);
	size_t n = strlen(m.join_url);
	assert_int_equal(strncmp(u1, m.join_url, n), 0);
	assert_string_equal(u1 + n, "#userInfo.displayName=%22Ada%20%5C%22The%5C%22%20Lovelace%22");
	assert_string_equal(u2 + n, "#userInfo.displayName=%22Zo%C3%AB%22");
	free(u1);
	free(u2);
	ml_meeting_clear(&m);
}

static void check_token(const char *url, const struct ml_meeting *m, struct ml_jwt_key *k,
                        const char *name, bool moderator, const char *aud)
{
	size_t n = strlen(m->join_url);
	assert_int_equal(strncmp(url, m->join_url, n), 0);
	assert_int_equal(strncmp(url + n, "?jwt=", 5), 0);
	json_t *c = NULL, *h = NULL;
	assert_int_equal(ml_jwt_verify(&c, k, url + n + 5), 0);
	assert_int_equal(ml_jwt_decode(&h, NULL, url + n + 5), 0);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "HS256");
	assert_null(json_object_get(h, "kid"));
	assert_string_equal(json_string_value(json_object_get(c, "iss")), "my_app_id");
	assert_string_equal(json_string_value(json_object_get(c, "aud")), aud);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), "meet.example.com");
	assert_string_equal(json_string_value(json_object_get(c, "room")), m->external_id);
	assert_int_equal(json_integer_value(json_object_get(c, "nbf")), 1800000000 - 900);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), 1800003000 + 3600);
	assert_true(json_is_boolean(json_object_get(c, "moderator")));
	assert_int_equal(json_is_true(json_object_get(c, "moderator")), moderator);
	json_t *user = json_object_get(json_object_get(c, "context"), "user");
	assert_string_equal(json_string_value(json_object_get(user, "name")), name);
	assert_string_equal(json_string_value(json_object_get(user, "affiliation")),
	                    moderator ? "owner" : "member");
	/* prosody throws on null user fields: absent ones are left out. */
	const char *key;
	json_t *v;
	json_object_foreach(user, key, v) assert_true(json_is_string(v));
	json_decref(c);
	json_decref(h);
}

static void test_token_auth(void **state)
{
	(void)state;
	struct ml_platform_settings s = settings();
	struct ml_jwt_key *k;
	assert_int_equal(ml_jwt_key_hs256(&k, "my_app_secret", 13), 0);
	s.jitsi_domain = "meet.example.com";
	s.jitsi_app_id = "my_app_id";
	s.jitsi_key = k;
	struct ml_provider_ctx cx = {&s, 1700000000};
	struct ml_meeting_req r = req("org_1", "bkg_1");
	struct ml_meeting m = {0};
	struct ml_perr err = {0};
	char *uh = NULL, *uc = NULL, *ua = NULL;
	assert_int_equal(drv()->meeting_create(&cx, &r, &m, &err), 0);

	struct ml_participant_ref host = {"prt_1", "host", "Ada", "ada@example.com"};
	struct ml_participant_ref cust = {"prt_2", "customer", "Bob", NULL};
	struct ml_participant_ref adm = {"prt_3", "admin", "Root", "root@example.com"};
	assert_int_equal(drv()->participant_url(&cx, &r, &m, &host, &uh, &err), 0);
	assert_int_equal(drv()->participant_url(&cx, &r, &m, &cust, &uc, &err), 0);
	assert_int_equal(drv()->participant_url(&cx, &r, &m, &adm, &ua, &err), 0);
	/* The audience prosody accepts by default (MEETLINK_JITSI_AUDIENCE unset). */
	check_token(uh, &m, k, "Ada", true, "jitsi");
	check_token(uc, &m, k, "Bob", false, "jitsi");
	check_token(ua, &m, k, "Root", true, "jitsi");
	assert_string_not_equal(uh, uc);

	/* A deployment that negotiated another audience. */
	char *uo = NULL;
	s.jitsi_audience = "meet.example.com";
	assert_int_equal(drv()->participant_url(&cx, &r, &m, &cust, &uo, &err), 0);
	check_token(uo, &m, k, "Bob", false, "meet.example.com");
	free(uo);
	s.jitsi_audience = "";
	assert_int_equal(drv()->participant_url(&cx, &r, &m, &cust, &uo, &err), 0);
	check_token(uo, &m, k, "Bob", false, "jitsi");
	free(uo);

	/* A token from another secret does not verify. */
	struct ml_jwt_key *other;
	assert_int_equal(ml_jwt_key_hs256(&other, "x", 1), 0);
	assert_int_equal(ml_jwt_verify(NULL, other, strstr(uh, "?jwt=") + 5), ML_EAUTH);
	ml_jwt_key_free(other);

	free(uh);
	free(uc);
	free(ua);
	ml_meeting_clear(&m);
	ml_jwt_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),       cmocka_unit_test(test_room_deterministic),
	    cmocka_unit_test(test_not_configured), cmocka_unit_test(test_public_personal_links),
	    cmocka_unit_test(test_token_auth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
