// The admin dashboard: bookings with meeting status and problems, one booking's participants
// and audit trail, and the operator's actions. Talks to the public API with the key the
// operator typed (kept for this tab only, in sessionStorage).

const $ = (sel) => document.querySelector(sel);
let apiKey = sessionStorage.getItem("meetlink.key") || "";
let cursor = null;
let current = null;

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${apiKey}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = r.headers.get("Content-Type")?.startsWith("application/json") ? await r.json() : null;
  if (!r.ok) throw new Error(data?.error?.message || `HTTP ${r.status}`);
  return data;
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

function say(text) {
  $("#message").textContent = text || "";
}

async function loadBookings(append) {
  const status = $("#status-filter").value;
  const params = new URLSearchParams({ limit: "50" });
  if (status) params.set("status", status);
  if (append && cursor) params.set("cursor", cursor);
  try {
    const page = await api("GET", `/v1/bookings?${params}`);
    const body = $("#bookings tbody");
    if (!append) body.replaceChildren();
    for (const b of page.data) {
      const tr = document.createElement("tr");
      const m = b.meeting || {};
      tr.append(cell(b.start), cell(b.title), cell(b.customer?.email), cell(b.status),
        cell(m.status, `status-${m.status}`), cell(m.platform + (m.fallback_used ? " (fallback)" : "")),
        cell(m.error ? `${m.error.code}: ${m.error.message}`
          : m.moved_at_provider ? `moved at the provider to ${m.moved_at_provider.start}` : ""));
      tr.addEventListener("click", () => showBooking(b.id));
      body.append(tr);
    }
    cursor = page.next_cursor;
    $("#more").hidden = !page.has_more;
    $("#bookings-section").hidden = false;
    say("");
  } catch (e) {
    say(e.message);
  }
}

async function showBooking(id) {
  try {
    const [b, people, events] = await Promise.all([
      api("GET", `/v1/bookings/${id}`),
      api("GET", `/v1/bookings/${id}/participants`),
      api("GET", `/v1/bookings/${id}/events`),
    ]);
    current = b;
    $("#detail-title").textContent = `${b.title} — ${b.status}`;
    const facts = $("#detail-facts");
    facts.replaceChildren();
    const m = b.meeting || {};
    for (const [k, v] of [["Booking", b.id], ["Start", b.start], ["End", b.end], ["Time zone", b.timezone],
      ["Meeting", m.status], ["Platform", m.platform], ["Link", m.join_url], ["Error", m.error?.message],
      ["Ended", b.ended ? `${b.ended.at} by ${b.ended.by}: ${b.ended.message ?? "the platform is being told"}` : null],
      ["Earlier links", (m.history || []).map((h) => h.join_url).filter(Boolean).join(", ")]]) {
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = k;
      dd.textContent = v ?? "—";
      facts.append(dt, dd);
    }
    if (m.moved_at_provider) { // the host moved the event in their calendar
      const dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = "Moved at the provider";
      dd.textContent = `${m.moved_at_provider.start} – ${m.moved_at_provider.end}` +
        " (reschedule to accept it, or to move it back)";
      facts.append(dt, dd);
    }
    showPeople(people);
    watchPeople(id);
    $("#events").replaceChildren(...events.data.map((e) => {
      const li = document.createElement("li");
      li.textContent = `${e.at} ${e.type} by ${e.actor}${e.ip ? " from " + e.ip : ""}`;
      return li;
    }));
    $("#action-result").textContent = "";
    $("#detail").hidden = false;
    await showRecording(id);
  } catch (e) {
    say(e.message);
  }
}

// Who takes part and where they stand (invited, waiting, admitted, in_meeting, left).
const STATES = { invited: "invited", waiting: "waiting", admitted: "admitted",
  in_meeting: "in the meeting", left: "left" };

function showPeople(people) {
  $("#participants tbody").replaceChildren(...people.data.map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.participant = p.id;
    const link = document.createElement("td");
    if (p.join_url) {
      const a = document.createElement("a");
      a.href = p.join_url;
      a.rel = "noreferrer";
      a.textContent = "join link";
      link.append(a);
    }
    tr.append(cell(p.role), cell(p.name), cell(p.email),
      cell(STATES[p.state] ?? p.state, `state-${p.state}`), cell(p.joined_at), cell(p.left_at), link);
    return tr;
  }));
  $("#presence-source").textContent = people.presence_source === "platform"
    ? "Presence as the platform reports it." : "Presence as the join gateway saw it (the platform reports none).";
  const others = (people.unmatched || []).map((u) => u.name || u.identity || u.email).filter(Boolean);
  $("#unmatched").hidden = others.length === 0;
  $("#unmatched").textContent = others.length ? `Also seen in the meeting, not matched: ${others.join(", ")}` : "";
}

// The participants, live: GET …/participants/events, read with fetch so the key travels in
// the Authorization header (EventSource cannot send it, and a key never goes in a URL). The
// server writes the whole list whenever it changes; a dropped stream is opened again after
// the server's retry hint, and starts with the whole list.
let watching = null;

function watchPeople(id) {
  if (watching) watching.abort();
  const ctl = new AbortController();
  watching = ctl;
  const live = $("#live");
  const open = async () => {
    let retry = 2000;
    try {
      const r = await fetch(`/v1/bookings/${id}/participants/events`,
        { headers: { Authorization: `Bearer ${apiKey}`, Accept: "text/event-stream" }, signal: ctl.signal });
      if (r.status >= 400 && r.status < 500) { // a refusal: trying again will not help
        const data = r.headers.get("Content-Type")?.startsWith("application/json") ? await r.json() : null;
        live.textContent = `Not live: ${data?.error?.message || `HTTP ${r.status}`}`;
        return;
      }
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      live.textContent = "Live";
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let type = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
            else if (line.startsWith("retry: ")) retry = Number(line.slice(7)) || retry;
          }
          if (type === "participants" && data && watching === ctl) showPeople(JSON.parse(data));
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    if (ctl.signal.aborted) return;
    live.textContent = "Reconnecting…";
    setTimeout(() => { if (!ctl.signal.aborted) open(); }, retry);
  };
  open();
}

// Seconds as m:ss.
function clock(s) {
  if (typeof s !== "number") return "";
  const t = Math.floor(s);
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
}

// Only web links become links (a provider's URL is not trusted to be one).
function webLink(url, text) {
  if (typeof url !== "string" || !/^https?:\/\//i.test(url)) return document.createTextNode("—");
  const a = document.createElement("a");
  a.href = url;
  a.rel = "noreferrer";
  a.target = "_blank";
  a.textContent = text;
  return a;
}

// The booking's latest recording: its state, media and transcript.
async function showRecording(bookingId) {
  const section = $("#recording");
  const list = await api("GET", `/v1/bookings/${bookingId}/recordings`);
  const last = list.data[list.data.length - 1];
  section.hidden = !last;
  if (!last) return;
  const rec = await api("GET", `/v1/recordings/${last.id}`);
  const facts = $("#recording-facts");
  facts.replaceChildren();
  for (const [k, v] of [["State", rec.state], ["Problem", rec.failure ? `${rec.failure.reason}: ${rec.failure.message}` : null],
    ["Bot", rec.options?.bot_name], ["Length", rec.duration_seconds != null ? clock(rec.duration_seconds) : null],
    ["Recording", webLink(rec.media_url, "open")], ["Transcript", rec.transcript_state]]) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = k;
    if (v instanceof Node) dd.append(v);
    else dd.textContent = v ?? "—";
    facts.append(dt, dd);
  }
  $("#transcript").replaceChildren(...(rec.transcript || []).map((seg) => {
    const li = document.createElement("li");
    const t = document.createElement("span");
    t.className = "t";
    t.textContent = clock(seg.start);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = seg.speaker;
    li.append(t, who, document.createTextNode(seg.text));
    return li;
  }));
  const vtt = $("#vtt");
  vtt.hidden = rec.transcript_state !== "ready";
  vtt.onclick = async () => {
    const r = await fetch(`/v1/recordings/${rec.id}/transcript.vtt`, { headers: { Authorization: `Bearer ${apiKey}` } });
    if (!r.ok) return say(`transcript: HTTP ${r.status}`);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = `${rec.id}.vtt`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
}

async function act(action) {
  if (!current) return;
  try {
    await api("POST", `/v1/bookings/${current.id}/${action}`, {});
    $("#action-result").textContent = `${action}: done`;
    await showBooking(current.id);
    await loadBookings(false);
  } catch (e) {
    $("#action-result").textContent = `${action}: ${e.message}`;
  }
}

$("#key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  apiKey = $("#api-key").value.trim();
  sessionStorage.setItem("meetlink.key", apiKey);
  loadBookings(false);
});
$("#refresh").addEventListener("click", () => loadBookings(false));
$("#status-filter").addEventListener("change", () => loadBookings(false));
$("#more").addEventListener("click", () => loadBookings(true));
for (const b of document.querySelectorAll("[data-action]")) b.addEventListener("click", () => act(b.dataset.action));
if (apiKey) loadBookings(false);
