/* ml_json_text writes exactly what json_dumps(ML_JSON_TEXT_FLAGS) writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json_text.h"

/* Compares, then drops j. */
static void same(json_t *j)
{
	char *want = json_dumps(j, JSON_ENCODE_ANY | ML_JSON_TEXT_FLAGS);
	char *got = ml_json_text(j);
	assert_non_null(want);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(want);
	free(got);
	json_decref(j);
}

static void test_scalars_and_escapes(void **state)
{
	(void)state;
	same(json_object());
	same(json_array());
	same(json_true());
	same(json_false());
	same(json_null());
	same(json_integer(0));
	same(json_integer(-42));
	same(json_integer(INT64_MAX));
	same(json_integer(INT64_MIN));
	same(json_real(0.1));
	same(json_real(3.0));
	same(json_real(-1e300));
	same(json_string(""));
	same(json_string("plain https://meet.jit.si/a-b#x=%22y%22"));
	same(json_string("quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f"));
	same(json_string("\x01\x02\x1f\x7f control and DEL"));
	same(json_string("Zoë — 東京 — 😀"));
	same(json_stringn("nul\0inside", 10));
}

static void test_documents(void **state)
{
	(void)state;
	json_t *doc = json_pack(
	    "{s:s, s:s, s:n, s:{s:s, s:s, s:s}, s:[], s:{}, s:i, s:b, s:b, s:f, "
	    "s:{s:s, s:[{s:s}, {s:i}], s:o}}",
	    "object", "booking", "id", "bkg_0123", "external_id", "customer", "id", "prt_1",
	    "name", "Ana \"the\" Client", "email", "ana@example.com", "attendees", "metadata",
	    "sequence", 3, "is_online", 1, "fallback_used", 0, "ratio", 0.25, "meeting", "status",
	    "ready", "history", "platform", "jitsi", "generation", 2, "error", json_null());
	/* Insertion order is kept, whatever the keys. */
	json_object_set_new(doc, "zzz", json_integer(1));
	json_object_set_new(doc, "aaa", json_integer(2));
	json_object_set_new(doc, "object", json_string("replaced in place"));
	json_object_del(doc, "metadata");
	same(doc);
}

static void test_random_trees(void **state)
{
	(void)state;
	srand(12345);
	for (int round = 0; round < 200; round++) {
		json_t *root = json_object(), *cur = root;
		for (int i = 0; i < 40; i++) {
			char key[16], val[24];
			snprintf(key, sizeof key, "k%d\x01", rand() % 50);
			for (size_t c = 0; c < sizeof val - 1; c++)
				val[c] = (char)(1 + rand() % 126);
			val[sizeof val - 1] = '\0';
			switch (rand() % 6) {
			case 0:
				json_object_set_new(cur, key, json_string(val));
				break;
			case 1:
				json_object_set_new(cur, key, json_integer(rand() - RAND_MAX / 2));
				break;
			case 2: {
				json_t *a = json_array();
				json_array_append_new(a, json_string(val));
				json_array_append_new(a, json_null());
				json_object_set_new(cur, key, a);
				break;
			}
			case 3: {
				json_t *o = json_object();
				json_object_set_new(cur, key, o);
				cur = o;
				break;
			}
			case 4:
				json_object_set_new(cur, key, json_boolean(rand() % 2));
				break;
			default:
				cur = root;
				break;
			}
		}
		same(root);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars_and_escapes),
	    cmocka_unit_test(test_documents),
	    cmocka_unit_test(test_random_trees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
