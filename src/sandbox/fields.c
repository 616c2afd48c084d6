/* Google's partial-response selector (see fields.h).
 *
 * A selector parses into a tree: a node selects its value whole (`all`), or the members
 * named by its children, and `star` (a `*` with a sub-selection) applies to every member.
 * A member reached both by name and by `*` gets the union of both selections; rather than
 * merging subtrees at parse time (copies that can grow with each nested `*`), the apply step
 * carries the set of nodes that reach a value. A tree node is reached by one path only, so
 * that set never holds more nodes than the tree.
 */
#include "sandbox/fields.h"

#include "core/error.h"
#include "core/json_text.h"
#include "core/mem.h"

#include <stdbool.h>
#include <string.h>

/* Deeper selections are refused: the parser and the tree's free recurse, and the sandbox
 * runs on small thread stacks. */
#define MAX_DEPTH 64

struct kid {
	char *name;
	struct ml_sb_fields *node;
};

struct ml_sb_fields {
	bool all;         /* the value whole */
	struct kid *kids; /* named members */
	size_t nkids, cap;
	struct ml_sb_fields *star; /* `*` with a sub-selection, or NULL */
};

void ml_sb_fields_free(struct ml_sb_fields *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nkids; i++) {
		free(f->kids[i].name);
		ml_sb_fields_free(f->kids[i].node);
	}
	free(f->kids);
	ml_sb_fields_free(f->star);
	free(f);
}

static struct ml_sb_fields *find_kid(const struct ml_sb_fields *f, const char *name, size_t n)
{
	for (size_t i = 0; i < f->nkids; i++)
		if (strncmp(f->kids[i].name, name, n) == 0 && f->kids[i].name[n] == '\0')
			return f->kids[i].node;
	return NULL;
}

/* The child for name[0..n) ("*": the star), made when missing. */
static struct ml_sb_fields *child(struct ml_sb_fields *f, const char *name, size_t n)
{
	if (n == 1 && name[0] == '*') {
		if (!f->star)
			f->star = ml_calloc(1, sizeof *f->star);
		return f->star;
	}
	struct ml_sb_fields *c = find_kid(f, name, n);
	if (c)
		return c;
	f->kids = ml_grow(f->kids, f->nkids, &f->cap, sizeof *f->kids, 4);
	c = ml_calloc(1, sizeof *c);
	f->kids[f->nkids].name = ml_strndup(name, n);
	f->kids[f->nkids++].node = c;
	return c;
}

/* ---- parsing ------------------------------------------------------------------------- */

struct parser {
	const char *s;
	size_t i;
	size_t item; /* where the current top-level selection starts: the part named in errors */
	int depth;
};

static bool parse_list(struct parser *p, struct ml_sb_fields *f);

/* One selection: name ('/' name)* ['(' list ')']. */
static bool parse_item(struct parser *p, struct ml_sb_fields *f)
{
	int depth = p->depth;
	bool ok = false;
	for (;;) {
		size_t start = p->i;
		while (p->s[p->i] && !strchr(",()/", p->s[p->i])) {
			unsigned char c = (unsigned char)p->s[p->i];
			if (c <= ' ' || c == 0x7f)
				return false;
			p->i++;
		}
		const char *name = p->s + start;
		size_t n = p->i - start;
		if (n == 0 || (memchr(name, '*', n) && n != 1))
			return false;
		if (++p->depth > MAX_DEPTH)
			return false;
		char c = p->s[p->i];
		if (c == '/') {
			f = child(f, name, n);
			p->i++;
			continue;
		}
		if (c == '(') {
			f = child(f, name, n);
			p->i++;
			if (!parse_list(p, f) || p->s[p->i] != ')')
				return false;
			p->i++;
			/* A group ends its selection: "a(b)c" and "a(b)/c" mean nothing. */
			c = p->s[p->i];
			ok = c == '\0' || c == ',' || c == ')';
			break;
		}
		if (n == 1 && name[0] == '*')
			f->all = true; /* every member of this level: the value whole */
		else
			child(f, name, n)->all = true;
		ok = true;
		break;
	}
	p->depth = depth;
	return ok;
}

static bool parse_list(struct parser *p, struct ml_sb_fields *f)
{
	bool top = p->depth == 0;
	for (;;) {
		if (!parse_item(p, f))
			return false;
		if (p->s[p->i] != ',')
			return true;
		p->i++;
		if (top)
			p->item = p->i;
	}
}

/* The top-level selection starting at p->item, up to the next top-level comma. */
static char *bad_part(const struct parser *p)
{
	int depth = 0;
	size_t j = p->item;
	for (; p->s[j]; j++) {
		if (p->s[j] == '(')
			depth++;
		else if (p->s[j] == ')')
			depth--;
		else if (p->s[j] == ',' && depth <= 0)
			break;
	}
	if (j == p->item)
		return ml_strdup(p->s);
	return ml_strndup(p->s + p->item, j - p->item);
}

int ml_sb_fields_parse(struct ml_sb_fields **out, const char *selector)
{
	struct parser p = {.s = selector};
	struct ml_sb_fields *f = ml_calloc(1, sizeof *f);
	/* A stray ')' stops the top-level list early. */
	if (!parse_list(&p, f) || p.s[p.i] != '\0') {
		char *bad = bad_part(&p);
		ml_sb_fields_free(f);
		ml_error_set(ML_EINVAL, "invalid_fields", "fields", "Invalid field selection %s",
		             bad);
		free(bad);
		return ML_EINVAL;
	}
	*out = f;
	return 0;
}

/* ---- applying ------------------------------------------------------------------------ */

static bool whole(const struct ml_sb_fields *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i]->all)
			return true;
	return false;
}

static json_t *apply(const struct ml_sb_fields *const *set, size_t n, json_t *v);

/* The selections that apply to member k of an object the selections in set apply to (at
 * most 2n, into next); 0: the member is not selected. */
static size_t select_key(const struct ml_sb_fields *const *set, size_t n, const char *k,
			 size_t kn, const struct ml_sb_fields **next)
{
	size_t nn = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ml_sb_fields *c = find_kid(set[i], k, kn);
		if (c)
			next[nn++] = c;
		if (set[i]->star)
			next[nn++] = set[i]->star;
	}
	return nn;
}

static json_t *apply_object(const struct ml_sb_fields *const *set, size_t n, json_t *v)
{
	json_t *out = json_object();
	/* Each node contributes at most its named child and its star. */
	const struct ml_sb_fields **next = ml_malloc(2 * n * sizeof *next);
	const char *k;
	json_t *m;
	json_object_foreach(v, k, m)
	{
		size_t nn = select_key(set, n, k, strlen(k), next);
		if (!nn)
			continue;
		if (whole(next, nn)) {
			json_object_set(out, k, m);
			continue;
		}
		json_t *r = apply(next, nn, m);
		/* A sub-selection that kept nothing of an object leaves the member out. */
		if (json_is_object(r) && !json_object_size(r)) {
			json_decref(r);
			continue;
		}
		if (r)
			json_object_set_new(out, k, r);
	}
	free(next);
	return out;
}

static json_t *apply(const struct ml_sb_fields *const *set, size_t n, json_t *v)
{
	if (whole(set, n))
		return json_incref(v);
	if (json_is_object(v))
		return apply_object(set, n, v);
	if (json_is_array(v)) {
		json_t *out = json_array();
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			json_t *r = apply(set, n, e);
			if (r)
				json_array_append_new(out, r);
		}
		return out;
	}
	return NULL; /* a scalar has no members to select */
}

json_t *ml_sb_fields_apply(const struct ml_sb_fields *f, json_t *v)
{
	return apply(&f, 1, v);
}

/* ---- writing ------------------------------------------------------------------------- */

/* apply() fused with writing its result: the same rules, each value's text appended as it is
 * decided, and taken back (b->len reset) where apply() leaves a value out. An answer's
 * selection written this way skips the objects apply() would build only to write them. */
static bool write_sel(struct ml_buf *b, const struct ml_sb_fields *const *set, size_t n, json_t *v);

static void unwrite(struct ml_buf *b, size_t mark)
{
	b->len = mark;
	b->data[mark] = '\0';
}

static void write_object(struct ml_buf *b, const struct ml_sb_fields *const *set, size_t n,
                         json_t *v)
{
	const struct ml_sb_fields **next = ml_malloc(2 * n * sizeof *next);
	const char *k;
	json_t *m;
	bool first = true;
	ml_buf_append(b, "{", 1);
	json_object_foreach(v, k, m)
	{
		size_t nn = select_key(set, n, k, strlen(k), next);
		if (!nn)
			continue;
		size_t mark = b->len;
		if (!first)
			ml_buf_append(b, ",", 1);
		ml_json_text_string(b, k);
		ml_buf_append(b, ":", 1);
		size_t at = b->len;
		if (whole(next, nn)) {
			ml_json_text_append(b, m);
		} else if (!write_sel(b, next, nn, m) || (json_is_object(m) && b->len - at == 2)) {
			/* Nothing selected, or an object of which nothing was kept ("{}"). */
			unwrite(b, mark);
			continue;
		}
		first = false;
	}
	ml_buf_append(b, "}", 1);
	free(next);
}

static bool write_sel(struct ml_buf *b, const struct ml_sb_fields *const *set, size_t n, json_t *v)
{
	if (whole(set, n)) {
		ml_json_text_append(b, v);
		return true;
	}
	if (json_is_object(v)) {
		write_object(b, set, n, v);
		return true;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		bool first = true;
		ml_buf_append(b, "[", 1);
		json_array_foreach(v, i, e)
		{
			size_t mark = b->len;
			if (!first)
				ml_buf_append(b, ",", 1);
			if (write_sel(b, set, n, e))
				first = false;
			else
				unwrite(b, mark);
		}
		ml_buf_append(b, "]", 1);
		return true;
	}
	return false;
}

char *ml_sb_fields_text(const struct ml_sb_fields *f, json_t *v)
{
	struct ml_buf b = {0};
	ml_buf_grow(&b, 512);
	if (!write_sel(&b, &f, 1, v)) {
		ml_buf_free(&b);
		return NULL;
	}
	return ml_buf_steal(&b);
}
