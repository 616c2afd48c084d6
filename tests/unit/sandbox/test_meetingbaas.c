/* The MeetingBaas emulator's subtle parts: JoinRequest validation (the v1 schema's types,
 * enums, additionalProperties: false, the documented timeout ranges, the field it names),
 * meeting URL platforms, the list filters' date parsing, and outbound fault rules (matched
 * by event, never taken by inbound requests, and the other way round). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sandbox/meetingbaas_internal.h"
#include "sandbox/sb_internal.h"

static const char *join_field(const char *text)
{
	json_t *b = json_loads(text, 0, NULL);
	const char *what = NULL, *f = ml_mb_check_join(b, &what);
	static char out[128];
	snprintf(out, sizeof out, "%s", f ? f : "(valid)");
	if (f)
		assert_non_null(what);
	json_decref(b);
	return out;
}

static void test_join_validation(void **state)
{
	(void)state;
	assert_string_equal(join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\"}"), "(valid)");
	assert_string_equal(
	    join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\",\"recording_mode\":null,"
	               "\"speech_to_text\":\"Default\",\"extra\":{\"a\":[1]},\"start_time\":0,"
	               "\"automatic_leave\":{\"waiting_room_timeout\":120,"
	               "\"silence_timeout\":1800,\"noone_joined_timeout\":null}}"),
	    "(valid)");
	assert_string_equal(join_field("{\"bot_name\":\"b\"}"), "meeting_url");
	assert_string_equal(join_field("[]"), "");
	assert_string_equal(join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\",\"x\":1}"), "x");
	assert_string_equal(
	    join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\",\"recording_mode\":\"hd\"}"),
	    "recording_mode");
	assert_string_equal(join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\","
	                               "\"speech_to_text\":{\"provider\":\"Runpod\"}}"),
	                    "speech_to_text/api_key");
	assert_string_equal(
	    join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\","
	               "\"speech_to_text\":{\"provider\":\"Runpod\",\"api_key\":\"k\"}}"),
	    "(valid)");
	assert_string_equal(join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\","
	                               "\"automatic_leave\":{\"silence_timeout\":299}}"),
	                    "automatic_leave/silence_timeout");
	assert_string_equal(join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\","
	                               "\"automatic_leave\":{\"noone_joined_timeout\":1801}}"),
	                    "automatic_leave/noone_joined_timeout");
	assert_string_equal(join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\","
	                               "\"automatic_leave\":{\"waiting_room_timeout\":\"600\"}}"),
	                    "automatic_leave/waiting_room_timeout");
	assert_string_equal(
	    join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\",\"start_time\":-5}"),
	    "start_time");
	assert_string_equal(
	    join_field("{\"meeting_url\":\"u\",\"bot_name\":\"b\",\"webhook_url\":\"x\"}"),
	    "webhook_url");
	assert_string_equal(join_field("{\"meeting_url\":\"\",\"bot_name\":\"b\"}"), "meeting_url");
}

static void test_platforms_and_times(void **state)
{
	(void)state;
	assert_string_equal(ml_mb_platform("https://meet.google.com/abc-defg-hij"), "google_meet");
	assert_string_equal(ml_mb_platform("https://us02web.zoom.us/j/812?pwd=x"), "zoom");
	assert_string_equal(ml_mb_platform("https://zoom.us/j/812"), "zoom");
	assert_string_equal(ml_mb_platform("https://teams.microsoft.com/l/meetup-join/x"), "teams");
	assert_null(ml_mb_platform("https://evilzoom.us/j/1"));
	assert_null(ml_mb_platform("https://meet.google.com.evil.test/x"));
	assert_null(ml_mb_platform("ftp://meet.google.com/x"));
	assert_null(ml_mb_platform(NULL));
	int64_t t = 0;
	assert_true(ml_mb_parse_time("2023-05-01T00:00:00", &t));
	assert_int_equal(t, 1682899200);
	assert_true(ml_mb_parse_time("2023-05-01T02:00:00+02:00", &t));
	assert_int_equal(t, 1682899200);
	assert_true(ml_mb_parse_time("2023-05-01", &t));
	assert_int_equal(t, 1682899200);
	assert_false(ml_mb_parse_time("yesterday", &t));
	assert_false(ml_mb_parse_time("", &t));
}

static void test_outbound_faults(void **state)
{
	(void)state;
	const char *err = NULL;
	json_t *bad = json_pack("{s:s, s:s, s:i}", "provider", "meetingbaas", "direction", "out",
	                        "status", 500);
	assert_null(ml_sb_fault_add(bad, &err));
	assert_non_null(err);
	json_decref(bad);
	json_t *spec = json_pack("{s:s, s:s, s:s, s:b, s:i}", "provider", "meetingbaas",
	                         "direction", "out", "event", "bot.*", "duplicate", 1, "count", 1);
	json_t *rule = ml_sb_fault_add(spec, &err);
	assert_non_null(rule);
	json_decref(rule);
	json_decref(spec);
	struct ml_sb_fault_hit f;
	/* An inbound request never takes an outbound rule. */
	assert_false(ml_sb_fault_pick("meetingbaas", "POST", "/meetingbaas/bots/", &f));
	assert_false(ml_sb_fault_pick_out("meetingbaas", "complete", &f));
	assert_true(ml_sb_fault_pick_out("meetingbaas", "bot.status_change", &f));
	assert_true(f.duplicate);
	assert_false(f.drop);
	ml_sb_fault_hit_free(&f);
	assert_false(ml_sb_fault_pick_out("meetingbaas", "bot.status_change", &f)); /* count 1 */
	spec = json_pack("{s:s, s:i}", "provider", "meetingbaas", "status", 503);
	rule = ml_sb_fault_add(spec, &err);
	json_decref(rule);
	json_decref(spec);
	assert_false(ml_sb_fault_pick_out("meetingbaas", "complete", &f));
	assert_true(ml_sb_fault_pick("meetingbaas", "GET", "/meetingbaas/calendars/", &f));
	assert_int_equal(f.status, 503);
	ml_sb_fault_hit_free(&f);
	ml_sb_faults_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_validation),
	    cmocka_unit_test(test_platforms_and_times),
	    cmocka_unit_test(test_outbound_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
