#include "app/handlers.h"
#include "meeting/provwatch.h"
#include "notify/jobs.h"
#include "meeting/meeting.h"
#include "meeting/presence.h"
#include "meeting/recording.h"

/* Append a kind here when its handler file lands. */
const struct ml_job_handler *const ml_job_handlers[] = {
	&ml_job_email_send,
	&ml_job_email_nudge,
	&ml_job_webhook_deliver,
	&ml_job_email_webhook_disabled,
	&ml_job_meeting_create,
	&ml_job_meeting_update,
	&ml_job_meeting_delete,
	&ml_job_meeting_open,
	&ml_job_meeting_reconcile,
	&ml_job_provider_watch,
	&ml_job_provider_sync,
	&ml_job_meeting_end,
	&ml_job_recording_dispatch,
	&ml_job_recording_leave,
	&ml_job_recording_sync,
	&ml_job_recording_retranscribe,
	&ml_job_recording_delete,
	&ml_job_presence_apply,
	NULL,
};
