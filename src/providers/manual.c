/* A link the host typed. Nothing to create at a provider: the driver only checks that the link
 * is an absolute http(s) URL that is safe to put in an e-mail, a calendar and an href. */
#include "core/mem.h"
#include "providers/provider.h"

#include <string.h>
#include <strings.h>

#define MAX_URL 2048

static bool valid_url(const char *u)
{
	size_t n, scheme;

	if (!u)
		return false;
	if (strncasecmp(u, "https://", 8) == 0)
		scheme = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		scheme = 7;
	else
		return false;
	n = strlen(u);
	if (n > MAX_URL || n == scheme)
		return false;
	/* A host must follow the scheme. */
	if (u[scheme] == '/' || u[scheme] == '?' || u[scheme] == '#' || u[scheme] == ':' ||
	    u[scheme] == '@')
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\' ||
		    *p == '`' || *p == '{' || *p == '}' || *p == '|' || *p == '^')
			return false;
	return true;
}

static int set_link(const char *url, struct ml_meeting *out, struct ml_perr *err)
{
	if (!valid_url(url))
		return ml_perr_set(
		    err, ML_PERR_PERMANENT, 0, "invalid_manual_url",
		    "the manual meeting link must be an absolute http:// or https:// URL");
	memset(out, 0, sizeof(*out));
	out->join_url = ml_strdup(url);
	out->host_url = ml_strdup(url);
	return 0;
}

static int manual_create(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                         struct ml_meeting *out, struct ml_perr *err)
{
	return set_link(req->manual_url, out, err);
}

/* A new link when the host gave one, else the current one stays. */
static int manual_update(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                         struct ml_meeting *out, struct ml_perr *err)
{
	return set_link(req->manual_url && *req->manual_url ? req->manual_url : req->join_url, out,
	                err);
}

static int manual_delete(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                         struct ml_perr *err)
{
	return 0;
}

const struct ml_provider_ops ml_provider_manual = {
    .abi = ML_PROVIDER_ABI,
    .name = "manual",
    .label = "Online meeting",
    .caps = ML_CAP_LOCAL | ML_CAP_UPDATE,
    .meeting_create = manual_create,
    .meeting_update = manual_update,
    .meeting_delete = manual_delete,
    .participant_url = NULL,
};
