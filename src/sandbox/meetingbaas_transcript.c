/* The recording's transcript, made up deterministically so tests can predict it: the
 * speakers (the script's, else two) take turns, one utterance every 8 seconds of
 * recording from 1.5 s on (at most 60), each a line of a fixed dialogue, each word 0.35 s
 * long with 0.05 s between words. Nothing without speech to text (the docs: "If not
 * provided, no transcription will be generated"). Stored compactly in the bot:
 * transcript [{id, speaker, start, end, word_id, words: [[start, end, text], ...]}]. */
#include "sandbox/meetingbaas_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const lines[] = {
    "Hello everyone, thanks for joining.",     "Thanks, happy to be here.",
    "Let us start with the agenda for today.", "I shared the document this morning.",
    "Great, I will go through it now.",        "Any questions before we move on?",
    "None from me, this looks good.",          "Then let us agree on the next steps.",
};
#define NLINES (sizeof lines / sizeof lines[0])
#define MAX_SEGMENTS 60

static double round3(double x)
{
	return (double)(int64_t)(x * 1000.0 + 0.5) / 1000.0; /* x >= 0 */
}

void ml_mb_transcript_make(json_t *root, json_t *bot, int64_t seconds)
{
	json_t *speakers = json_array(), *out = json_array();
	json_t *script =
	    json_object_get(json_object_get(root, "scripts"), ml_sb_str(bot, "meeting_url"));
	json_t *own = json_object_get(json_object_get(bot, "script"), "speakers");
	json_t *names = json_is_array(own) ? own : json_object_get(script, "speakers");
	size_t i;
	json_t *v;

	if (!ml_sb_str(bot, "speech_to_text_provider") ||
	    json_is_true(json_object_get(bot, "data_deleted"))) {
		json_object_set_new(bot, "speakers", speakers);
		json_object_set_new(bot, "transcript", out);
		return;
	}
	if (json_array_size(names) == 0) {
		json_array_append_new(speakers, json_string("Ada Lovelace"));
		json_array_append_new(speakers, json_string("Grace Hopper"));
	} else {
		json_array_foreach(names, i, v) json_array_append(speakers, v);
	}
	size_t nseg = seconds > 2 ? (size_t)((seconds - 2) / 8 + 1) : 0;
	if (nseg > MAX_SEGMENTS)
		nseg = MAX_SEGMENTS;
	for (size_t s = 0; s < nseg; s++) {
		double t = 1.5 + 8.0 * (double)s, start = t;
		json_t *words = json_array();
		char buf[128];
		snprintf(buf, sizeof buf, "%s", lines[s % NLINES]);
		for (char *save = NULL, *w = strtok_r(buf, " ", &save); w;
		     w = strtok_r(NULL, " ", &save)) {
			json_array_append_new(
			    words, json_pack("[f, f, s]", round3(t), round3(t + 0.35), w));
			t += 0.4;
		}
		json_int_t id = ml_mb_next_id(root, "transcript");
		json_int_t wid = ml_mb_next_id(root, "word");
		json_t *seq = json_object_get(root, "seq");
		json_object_set_new(seq, "word",
		                    json_integer(wid + (json_int_t)json_array_size(words)));
		json_array_append_new(
		    out, json_pack("{s:I, s:O, s:f, s:f, s:I, s:o}", "id", id, "speaker",
		                   json_array_get(speakers, s % json_array_size(speakers)), "start",
		                   round3(start), "end", round3(t - 0.05), "word_id", wid, "words",
		                   words));
	}
	json_object_set_new(bot, "speakers", speakers);
	json_object_set_new(bot, "transcript", out);
}

json_t *ml_mb_transcript_hook(const json_t *bot)
{
	json_t *out = json_array(), *seg, *w;
	size_t i, j;
	json_array_foreach(json_object_get(bot, "transcript"), i, seg)
	{
		json_t *words = json_array();
		json_array_foreach(json_object_get(seg, "words"), j, w)
		{
			json_array_append_new(words, json_pack("{s:O, s:O, s:O}", "start",
			                                       json_array_get(w, 0), "end",
			                                       json_array_get(w, 1), "word",
			                                       json_array_get(w, 2)));
		}
		json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O, s:o}", "speaker",
		                                     json_object_get(seg, "speaker"), "offset",
		                                     json_object_get(seg, "start"), "start_time",
		                                     json_object_get(seg, "start"), "end_time",
		                                     json_object_get(seg, "end"), "words", words));
	}
	return out;
}

json_t *ml_mb_transcript_api(const json_t *bot)
{
	json_t *out = json_array(), *seg, *w;
	json_t *bot_id = json_object_get(bot, "id");
	size_t i, j;
	json_array_foreach(json_object_get(bot, "transcript"), i, seg)
	{
		json_t *words = json_array();
		json_int_t wid = ml_mb_int(seg, "word_id", 0);
		json_array_foreach(json_object_get(seg, "words"), j, w)
		{
			json_array_append_new(
			    words, json_pack("{s:O, s:I, s:O, s:O, s:O, s:n}", "bot_id", bot_id,
			                     "id", wid + (json_int_t)j, "start_time",
			                     json_array_get(w, 0), "end_time", json_array_get(w, 1),
			                     "text", json_array_get(w, 2), "user_id"));
		}
		json_array_append_new(
		    out, json_pack(
		             "{s:O, s:O, s:O, s:O, s:O, s:s, s:n, s:o}", "bot_id", bot_id, "id",
		             json_object_get(seg, "id"), "speaker", json_object_get(seg, "speaker"),
		             "start_time", json_object_get(seg, "start"), "end_time",
		             json_object_get(seg, "end"), "lang", "en", "user_id", "words", words));
	}
	return out;
}
