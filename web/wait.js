// The guest's waiting page (/j/{token}/wait): confirm the name, ask to join, then wait on a
// live event stream (no polling): admitted → on into the meeting (/j/{token}/go), rejected →
// the reason and, while allowed, asking again. Every value is set as text, never as HTML.
const main = document.getElementById('wait');
const base = location.pathname.replace(/\/wait\/?$/, '');
const el = (id) => document.getElementById(id);
let stream = null;

function localTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

const start = el('start');
if (start) {
  const d = new Date(start.getAttribute('datetime'));
  if (!isNaN(d)) start.textContent = d.toLocaleString([], { dateStyle: 'full', timeStyle: 'short' });
}

function show(section) {
  for (const id of ['ask', 'waiting', 'refused']) el(id).hidden = id !== section;
}

function apply(row) {
  main.dataset.state = row.state;
  el('error').textContent = '';
  switch (row.state) {
    case 'admitted':
      if (stream) stream.close();
      el('status').textContent = 'You are in: opening the meeting…';
      show('waiting');
      location.assign(base + '/go');
      return;
    case 'waiting':
      el('status').textContent = row.since
        ? `Waiting since ${localTime(row.since)}. The host will let you in.`
        : 'The host will let you in.';
      show('waiting');
      listen();
      return;
    case 'rejected': {
      const again = row.asks_left > 0;
      el('refused-message').textContent = again
        ? 'The host did not let you in. You may ask again.'
        : 'The host did not let you in.';
      el('reason').hidden = !row.reason;
      el('reason').textContent = row.reason ? `Reason: ${row.reason}` : '';
      show('refused');
      el('refused').hidden = false;
      el('ask').hidden = !again;
      el('ask-button').textContent = 'Ask again';
      el('ask-intro').hidden = true;
      return;
    }
    case 'closed':
      if (stream) stream.close();
      // The reason says whether it ended or was cancelled.
      el('refused-message').textContent = row.reason
        ? `${row.reason} There is nothing to wait for.`
        : 'This meeting was cancelled; there is nothing to wait for.';
      el('reason').hidden = true;
      show('refused');
      return;
    default: // new, left
      show('ask');
  }
}

function listen() {
  if (stream) return;
  stream = new EventSource(base + '/events');
  stream.addEventListener('state', (e) => apply(JSON.parse(e.data)));
}

async function post(body) {
  const r = await fetch(base + '/wait', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  let j = {};
  try { j = await r.json(); } catch { /* no body */ }
  return { status: r.status, json: j };
}

el('ask').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = el('name').value.trim();
  if (!name) { el('error').textContent = 'Please type your name.'; el('name').focus(); return; }
  el('ask-button').disabled = true;
  try {
    const r = await post({ action: 'ask', name });
    if (r.status === 200) apply(r.json);
    else if (r.status === 409 && r.json.participant) { apply(r.json.participant); el('error').textContent = r.json.error.message; }
    else el('error').textContent = (r.json.error && r.json.error.message) || 'That did not work; try again.';
  } catch {
    el('error').textContent = 'No connection; try again.';
  } finally {
    el('ask-button').disabled = false;
  }
});

el('leave').addEventListener('click', async () => {
  const r = await post({ action: 'leave' });
  if (stream) { stream.close(); stream = null; }
  if (r.status === 200) apply(r.json);
  else if (r.json.participant) apply(r.json.participant);
});

apply({
  state: main.dataset.state,
  reason: main.dataset.reason,
  since: main.dataset.since,
  asks_left: Number(main.dataset.asksLeft),
});
