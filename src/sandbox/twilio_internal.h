/* Shared between the Twilio emulator's files: twilio.c (rooms, participants, callbacks) and
 * twilio_list.c (listing rooms, paging). */
#ifndef ML_SANDBOX_TWILIO_INTERNAL_H
#define ML_SANDBOX_TWILIO_INTERNAL_H

#include "sandbox/sandbox.h"

#define TP "twilio"
#define TW_ACCOUNT "AC00000000000000000000000000000001"
#define TW_TOKEN "a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define TW_KEY "SK00000000000000000000000000000001"
#define TW_KEY_SECRET "SandboxApiKeySecret0000000000001"

/* twilio.c: Twilio's error body {code, message, more_info, status}; an API URL under
 * /twilio/v1 (caller frees); the account the request authenticates as, or NULL after the 401;
 * the rooms' timeouts applied (lock held); the sids of the rooms named `name`, oldest first
 * (borrowed, or NULL); the public form of a stored room or participant; a whole decimal. */
void ml_tw_err(struct ml_http_resp *resp, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
char *ml_tw_api_url(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
json_t *ml_tw_auth(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_tw_tick(json_t *root);
json_t *ml_tw_rooms_named(json_t *root, const char *name);
json_t *ml_tw_public(const json_t *o);
bool ml_tw_parse_int(const char *s, long *out);

/* twilio_list.c: PageSize and Page (false after answering); the list answer with its meta
 * (takes base and items); whether an object was created within DateCreatedAfter/Before;
 * GET /v1/Rooms. */
bool ml_tw_paging(struct ml_http_req *req, struct ml_http_resp *resp, long *size, long *page);
void ml_tw_answer_list(struct ml_http_resp *resp, const char *key, char *base, json_t *items,
                       long size, long page);
bool ml_tw_created_in(struct ml_http_req *req, const json_t *o);
void ml_tw_list_rooms(struct ml_http_req *req, struct ml_http_resp *resp);

/* twilio_callbacks.c: posts a status callback for `room` (lock held), form-encoded and
 * signed; `extra` (stolen, may be NULL) adds participant members. */
void ml_tw_callback(json_t *root, json_t *room, const char *event, json_t *extra);

#endif
