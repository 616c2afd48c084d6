/* The published OpenAPI document (docs/openapi.json, embedded in the binary) and the router
 * describe the same API: every route of ml_api_routes is an operation of the document under
 * the same method and path template, and every operation of the document is a route. Each
 * operation has a unique operationId, every POST declares the Idempotency-Key header, and
 * the public routes (and only they) opt out of the bearer security requirement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "core/embed.h"

static const char *const methods[] = {"get", "put", "post", "delete", "options", "head",
				      "patch", "trace", NULL};

static json_t *load_doc(void)
{
	const struct ml_embedded *e = ml_embed_find("docs/openapi.json");
	json_error_t jerr;
	assert_non_null(e);
	json_t *doc = json_loadb((const char *)e->data, e->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		fail_msg("docs/openapi.json is not valid JSON: %s (line %d, column %d)", jerr.text,
			 jerr.line, jerr.column);
	assert_true(json_is_object(doc));
	return doc;
}

static void lower(const char *in, char *out, size_t n)
{
	size_t i = 0;
	for (; in[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* Resolves a local "#/components/..." reference (one level is all the document uses for
 * parameters); anything else is returned as is. */
static json_t *deref(json_t *doc, json_t *v)
{
	const char *r = json_string_value(json_object_get(v, "$ref"));
	if (!r || strncmp(r, "#/", 2) != 0)
		return v;
	json_t *cur = doc;
	for (const char *seg = r + 2; *seg && cur;) {
		size_t n = strcspn(seg, "/");
		char key[128];
		snprintf(key, sizeof key, "%.*s", (int)n, seg);
		cur = json_object_get(cur, key);
		seg += n + (seg[n] == '/');
	}
	if (!cur)
		fail_msg("unresolvable $ref %s", r);
	return cur;
}

static void test_document_basics(void **state)
{
	(void)state;
	json_t *doc = load_doc();
	const char *v = json_string_value(json_object_get(doc, "openapi"));
	assert_non_null(v);
	assert_string_equal(v, "3.1.0");
	assert_true(json_is_object(json_object_get(doc, "paths")));
	assert_non_null(json_object_get(json_object_get(json_object_get(doc, "components"),
							"securitySchemes"),
					"bearerAuth"));
	assert_true(json_array_size(json_object_get(doc, "security")) > 0);
	json_decref(doc);
}

/* Router → document, then document → router; both lists of differences are printed. */
static void test_routes_match_document(void **state)
{
	(void)state;
	json_t *doc = load_doc();
	json_t *paths = json_object_get(doc, "paths");
	int missing = 0, extra = 0, nroutes = 0, nops = 0;

	for (const struct ml_route *r = ml_api_routes; r->method; r++) {
		char m[16];
		lower(r->method, m, sizeof m);
		nroutes++;
		if (!json_is_object(json_object_get(json_object_get(paths, r->pattern), m))) {
			fprintf(stderr, "in the router, not in docs/openapi.json: %s %s\n", r->method,
				r->pattern);
			missing++;
		}
	}

	const char *path;
	json_t *item;
	json_object_foreach(paths, path, item) {
		for (int i = 0; methods[i]; i++) {
			if (!json_object_get(item, methods[i]))
				continue;
			bool found = false;
			nops++;
			for (const struct ml_route *r = ml_api_routes; r->method && !found; r++) {
				char m[16];
				lower(r->method, m, sizeof m);
				found = strcmp(m, methods[i]) == 0 && strcmp(r->pattern, path) == 0;
			}
			if (!found) {
				fprintf(stderr, "in docs/openapi.json, not in the router: %s %s\n",
					methods[i], path);
				extra++;
			}
		}
	}
	if (missing || extra)
		fail_msg("router and OpenAPI document differ: %d route(s) undocumented, %d "
			 "documented operation(s) without a route",
			 missing, extra);
	assert_int_equal(nroutes, nops);
	json_decref(doc);
}

static void test_operations_well_formed(void **state)
{
	(void)state;
	json_t *doc = load_doc();
	json_t *paths = json_object_get(doc, "paths");
	json_t *seen = json_object();
	int bad = 0;
	const char *path;
	json_t *item;

	json_object_foreach(paths, path, item) {
		for (int i = 0; methods[i]; i++) {
			json_t *op = json_object_get(item, methods[i]);
			if (!op)
				continue;
			const char *id = json_string_value(json_object_get(op, "operationId"));
			if (!id || !*id) {
				fprintf(stderr, "%s %s: no operationId\n", methods[i], path);
				bad++;
			} else if (json_object_get(seen, id)) {
				fprintf(stderr, "%s %s: operationId %s used twice\n", methods[i], path,
					id);
				bad++;
			} else {
				json_object_set_new(seen, id, json_true());
			}
			if (!json_object_size(json_object_get(op, "responses"))) {
				fprintf(stderr, "%s %s: no responses\n", methods[i], path);
				bad++;
			}

			/* Every {param} of the template is declared as a path parameter. */
			json_t *params = json_object_get(op, "parameters");
			for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
				size_t n = strcspn(p + 1, "}");
				bool declared = false;
				size_t k;
				json_t *prm;
				json_array_foreach(params, k, prm) {
					json_t *d = deref(doc, prm);
					const char *nm = json_string_value(json_object_get(d, "name"));
					const char *in = json_string_value(json_object_get(d, "in"));
					declared = declared || (nm && in && strcmp(in, "path") == 0 &&
								strlen(nm) == n && strncmp(nm, p + 1, n) == 0 &&
								json_is_true(json_object_get(d, "required")));
				}
				if (!declared) {
					fprintf(stderr, "%s %s: path parameter {%.*s} not declared\n",
						methods[i], path, (int)n, p + 1);
					bad++;
				}
			}

			if (strcmp(methods[i], "post") == 0) {
				bool idem = false;
				size_t k;
				json_t *prm;
				json_array_foreach(params, k, prm) {
					json_t *d = deref(doc, prm);
					const char *nm = json_string_value(json_object_get(d, "name"));
					const char *in = json_string_value(json_object_get(d, "in"));
					idem = idem || (nm && in && strcasecmp(nm, "Idempotency-Key") == 0 &&
							strcmp(in, "header") == 0);
				}
				if (!idem) {
					fprintf(stderr, "POST %s: no Idempotency-Key header parameter\n",
						path);
					bad++;
				}
			}
		}
	}
	json_decref(seen);
	if (bad)
		fail_msg("%d problem(s) in the operations of docs/openapi.json", bad);
	json_decref(doc);
}

/* Public routes say `security: []`; every other operation inherits the bearer requirement. */
static void test_security_matches_router(void **state)
{
	(void)state;
	json_t *doc = load_doc();
	json_t *paths = json_object_get(doc, "paths");
	int bad = 0;

	for (const struct ml_route *r = ml_api_routes; r->method; r++) {
		char m[16];
		lower(r->method, m, sizeof m);
		json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
		if (!op)
			continue; /* reported by test_routes_match_document */
		json_t *sec = json_object_get(op, "security");
		bool open = json_is_array(sec) && json_array_size(sec) == 0;
		bool pub = (r->flags & ML_ROUTE_PUBLIC) != 0;
		if (open != pub) {
			fprintf(stderr, "%s %s: route is %s but the document says %s\n", r->method,
				r->pattern, pub ? "public" : "authenticated",
				open ? "security: []" : "bearer");
			bad++;
		}
		if (!pub && !json_object_get(json_object_get(op, "responses"), "401")) {
			fprintf(stderr, "%s %s: authenticated route without a 401 response\n",
				r->method, r->pattern);
			bad++;
		}
	}
	if (bad)
		fail_msg("%d security mismatch(es) between the router and docs/openapi.json", bad);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document_basics),
		cmocka_unit_test(test_routes_match_document),
		cmocka_unit_test(test_operations_well_formed),
		cmocka_unit_test(test_security_matches_router),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
