/* Internal interface between the sandbox framework files (sandbox.c, reqlog.c, faults.c,
 * webhook.c, control.c). Providers use sandbox.h only. */
#ifndef ML_SANDBOX_SB_INTERNAL_H
#define ML_SANDBOX_SB_INTERNAL_H

#include "sandbox/sandbox.h"

#define ML_SB_MAX_PROVIDERS 16

int ml_sb_provider_index(const char *name);
json_t *ml_sb_config_obj(int i);                /* borrowed; lock held */
void ml_sb_reset_provider(int i);               /* lock held */
json_t *ml_sb_state_snapshot(const char *only); /* new reference; lock held */
void ml_sb_clock_advance(int64_t seconds);
int64_t ml_sb_clock_offset(void);
void ml_sb_provider_error(const struct ml_sb_provider *p, struct ml_http_resp *resp, int status,
                          const char *message);

/* The ticker thread (ticker.c). */
void ml_sb_ticker_stop(void);

/* The control API (control.c). */
void ml_sb_control(struct ml_http_req *req, struct ml_http_resp *resp);

/* The request log (reqlog.c): a bounded ring of JSON entries under its own mutex. */
void ml_sb_log_init(size_t capacity);
void ml_sb_log_free(void);
void ml_sb_log_clear(void);
void ml_sb_log_record(const char *provider, struct ml_http_req *req,
                      const struct ml_http_resp *resp, int fault_id, bool dropped,
                      int64_t duration_ms);
/* An outbound request (webhook) and its answer. Takes nothing. */
void ml_sb_log_record_out(const char *provider, const char *url, const char *const *headers,
                          const char *body, size_t n, long status, const char *answer);
/* Entries matching the filters (NULL: any), with id > since, at most limit. New reference. */
json_t *ml_sb_log_query(const char *provider, const char *method, const char *path_glob,
                        const char *direction, int64_t since, size_t limit);
/* Copies `v` with every secret-named member redacted (recursively). New reference. */
json_t *ml_sb_redact(const json_t *v);

/* The fault engine (faults.c). */
struct ml_sb_fault_hit {
	int id;
	int status;
	int64_t latency_ms;
	int64_t latency_after_ms; /* the provider acts, then the answer waits this long */
	bool drop, drop_after;
	char *retry_after;  /* owned or NULL */
	json_t *body;       /* owned or NULL: JSON, or a string sent as text */
	json_t *headers;    /* owned or NULL: {"Name": "value"} */
	char *content_type; /* owned or NULL */
	bool duplicate;     /* outbound: deliver twice */
	bool reorder;       /* outbound: hold until the next delivery has gone */
};
/* Picks the first active rule for this request and consumes one of its uses. */
bool ml_sb_fault_pick(const char *provider, const char *method, const char *path,
                      struct ml_sb_fault_hit *out);
/* The same for an outbound webhook (rules with "direction": "out"): `event` is the event's
 * name ("complete", "bot.status_change"), matched by the rule's `event` glob. A hit's drop
 * means lost, latency_ms late, duplicate and reorder as named. */
bool ml_sb_fault_pick_out(const char *provider, const char *event, struct ml_sb_fault_hit *out);
void ml_sb_fault_respond(const struct ml_sb_provider *p, const struct ml_sb_fault_hit *f,
                         struct ml_http_resp *resp);
void ml_sb_fault_hit_free(struct ml_sb_fault_hit *f);
/* Adds a rule from its JSON description; returns the rule as JSON (new reference) or NULL
 * with *err set to a human message (static). */
json_t *ml_sb_fault_add(const json_t *spec, const char **err);
json_t *ml_sb_faults_list(void);
bool ml_sb_fault_delete(int id);
void ml_sb_faults_clear(void);

/* Outbound webhooks (webhook.c). */
void ml_sb_webhook_init(void);
void ml_sb_webhook_shutdown(void);

#endif
