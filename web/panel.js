// The host panel (/j/{token}/panel): who waits and since when, admit or reject (with an
// optional reason) or admit everyone, who has passed the gateway, and ending the meeting for
// everyone (asked twice). Live through an event
// stream (no polling); a notice when someone starts waiting: the count in the tab's title,
// and a short sound when the host turned it on. Values are set as text, never as HTML.
const main = document.getElementById('panel');
const base = location.pathname.replace(/\/panel\/?$/, '');
const el = (id) => document.getElementById(id);
const rows = new Map(); // participant_id -> row
const pageTitle = document.title;
let loaded = false;

const start = el('start');
if (start) {
  const d = new Date(start.getAttribute('datetime'));
  if (!isNaN(d)) start.textContent = d.toLocaleString([], { dateStyle: 'full', timeStyle: 'short' });
}

function localTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function beep() {
  if (!el('sound').checked) return;
  try {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.1;
    o.connect(g).connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.2);
  } catch { /* no audio */ }
}

async function act(path, body, who) {
  el('error').textContent = '';
  const r = await fetch(base + '/panel/' + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  let j = {};
  try { j = await r.json(); } catch { /* no body */ }
  if (r.status === 409 && j.participant) {
    rows.set(j.participant.participant_id, j.participant);
    render();
    el('error').textContent = `${who}: ${j.error.message}`;
  } else if (r.status !== 200) {
    el('error').textContent = (j.error && j.error.message) || 'That did not work; try again.';
  }
}

function item(row) {
  const li = document.createElement('li');
  li.dataset.participant = row.participant_id;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = row.name || row.participant_id;
  li.append(who);
  const info = document.createElement('span');
  if (row.state === 'waiting') {
    info.className = 'since';
    info.textContent = `waiting since ${localTime(row.since)}`;
    li.append(info);
    const admit = document.createElement('button');
    admit.type = 'button';
    admit.className = 'admit';
    admit.textContent = 'Admit';
    admit.setAttribute('aria-label', `Admit ${who.textContent}`);
    admit.addEventListener('click', () => act('admit', { participant_id: row.participant_id }, who.textContent));
    const reasonId = 'reason-' + row.participant_id;
    const label = document.createElement('label');
    label.htmlFor = reasonId;
    label.textContent = 'Reason (optional)';
    const reason = document.createElement('input');
    reason.id = reasonId;
    reason.maxLength = 500;
    const reject = document.createElement('button');
    reject.type = 'button';
    reject.className = 'reject';
    reject.textContent = 'Reject';
    reject.setAttribute('aria-label', `Reject ${who.textContent}`);
    reject.addEventListener('click', () => {
      const body = { participant_id: row.participant_id };
      if (reason.value.trim()) body.reason = reason.value.trim();
      act('reject', body, who.textContent);
    });
    li.append(admit, label, reason, reject);
  } else {
    info.className = 'state';
    info.textContent = row.state + (row.reason ? ` (${row.reason})` : '');
    li.append(info);
  }
  return li;
}

function render() {
  const waiting = [...rows.values()].filter((r) => r.state === 'waiting')
    .sort((a, b) => String(a.since).localeCompare(String(b.since)));
  const decided = [...rows.values()].filter((r) => r.state !== 'waiting');
  // Keep the focus and a half-typed reason: only rows that changed are replaced.
  for (const [list, items] of [[el('waiting'), waiting], [el('decided'), decided]]) {
    const want = new Set(items.map((r) => r.participant_id));
    for (const li of [...list.children]) if (!want.has(li.dataset.participant)) li.remove();
    for (const r of items) {
      const old = [...list.children].find((li) => li.dataset.participant === r.participant_id);
      if (old && old.dataset.seq === String(r.seq)) { list.append(old); continue; }
      const li = item(r);
      li.dataset.seq = String(r.seq);
      if (old) old.replaceWith(li); else list.append(li);
    }
  }
  el('count').textContent = String(waiting.length);
  el('empty').hidden = waiting.length > 0;
  if (el('admit-all')) el('admit-all').disabled = waiting.length === 0;
  document.title = waiting.length ? `(${waiting.length}) ${pageTitle}` : pageTitle;
}

const stream = new EventSource(base + '/panel/events');
stream.addEventListener('participant', (e) => {
  const row = JSON.parse(e.data);
  const before = rows.get(row.participant_id);
  rows.set(row.participant_id, row);
  if (loaded && row.state === 'waiting' && (!before || before.state !== 'waiting')) {
    el('status').textContent = `${row.name || 'Someone'} is waiting.`;
    beep();
  }
  render();
});
stream.addEventListener('passes', (e) => {
  const list = el('passes');
  list.replaceChildren(...JSON.parse(e.data).map((p) => {
    const li = document.createElement('li');
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = p.name || p.participant_id;
    const at = document.createElement('span');
    at.className = 'since';
    at.textContent = `${p.role}, ${localTime(p.at)}`;
    li.append(who, at);
    return li;
  }));
  loaded = true; // the first batch is the room as it was: no notice for it
});
stream.addEventListener('presence', (e) => {
  // Who is in the meeting now, as the platform reports it (platforms that report nothing:
  // the gateway's passes below are all there is).
  const now = JSON.parse(e.data);
  if (!el('presence')) return;
  el('present-count').textContent = String(now.length);
  el('presence').replaceChildren(...now.map((p) => {
    const li = document.createElement('li');
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = p.name || p.participant_id || 'Someone';
    const at = document.createElement('span');
    at.className = 'since';
    at.textContent = p.joined_at ? `since ${localTime(p.joined_at)}` : '';
    li.append(who, at);
    return li;
  }));
});
if (el('admit-all')) el('admit-all').addEventListener('click', () => act('admit-all', {}, 'Everyone'));

// Ending: nothing to join or admit afterwards; the answer says what the platform did.
function ended(info) {
  for (const id of ['join', 'admit-all', 'end']) if (el(id)) el(id).remove();
  el('end-confirm').hidden = true;
  const said = info && info.message ? ` ${info.message}`
    : info && info.platform_status === 'pending' ? ' The platform is being told to end it.' : '';
  el('status').textContent = `The meeting has ended for everyone.${said}`;
}

if (el('end')) {
  el('end').addEventListener('click', () => {
    el('end-confirm').hidden = false;
    el('end-yes').focus();
  });
  el('end-no').addEventListener('click', () => {
    el('end-confirm').hidden = true;
    el('end').focus();
  });
  el('end-yes').addEventListener('click', async () => {
    el('end-yes').disabled = true;
    el('error').textContent = '';
    try {
      const r = await fetch(base + '/panel/end', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
        credentials: 'same-origin',
      });
      let j = {};
      try { j = await r.json(); } catch { /* no body */ }
      if (r.status === 200) { ended(j.ended); return; }
      el('error').textContent = (j.error && j.error.message) || 'That did not work; try again.';
    } catch {
      el('error').textContent = 'No connection; try again.';
    }
    el('end-yes').disabled = false;
  });
}
void main;
