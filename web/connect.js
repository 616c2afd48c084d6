// The hosted connect page: a card per platform with its status, Connect and Disconnect.
// Everything it does is authorised by the signed link in the page's own URL (?t=…).
const params = new URLSearchParams(window.location.search);
const token = params.get('t') || '';
const $ = (id) => document.getElementById(id);

function show(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = !text;
}

const statusText = {
  connected: 'Connected',
  reauth_required: 'Needs reconnecting',
  revoked: 'Disconnected',
  not_connected: 'Not connected',
};

function card(p, focus) {
  const el = document.createElement('article');
  el.className = 'card' + (p.platform === focus ? ' focus' : '');
  el.id = 'card-' + p.platform;
  el.dataset.status = p.status;

  const info = document.createElement('div');
  const h = document.createElement('h2');
  h.textContent = p.label;
  const st = document.createElement('p');
  st.className = 'status status-' + p.status;
  st.id = 'status-' + p.platform;
  st.textContent = statusText[p.status] || p.status;
  info.append(h, st);
  if (p.account_email && p.status === 'connected') {
    const d = document.createElement('p');
    d.className = 'detail';
    d.id = 'account-' + p.platform;
    d.textContent = p.account_email;
    info.append(d);
  }
  if (p.last_error && p.status === 'reauth_required') {
    const d = document.createElement('p');
    d.className = 'detail';
    d.textContent = 'The connection stopped working. Connect again to fix it.';
    info.append(d);
  }

  const actions = document.createElement('div');
  if (!p.configured) {
    const d = document.createElement('p');
    d.className = 'detail';
    d.textContent = 'Not available on this server.';
    actions.append(d);
  } else if (p.status === 'connected') {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.id = 'disconnect-' + p.platform;
    b.textContent = 'Disconnect';
    b.addEventListener('click', () => disconnect(p, b));
    actions.append(b);
  } else {
    // A top-level navigation: the state cookie is set on this browser by the start step.
    const a = document.createElement('a');
    a.className = 'button';
    a.id = 'connect-' + p.platform;
    a.href = '/oauth/' + encodeURIComponent(p.platform) + '/start?t=' + encodeURIComponent(token);
    a.textContent = p.status === 'reauth_required' ? 'Reconnect' : 'Connect';
    actions.append(a);
  }
  el.append(info, actions);
  return el;
}

async function load() {
  const r = await fetch('/connect/session?t=' + encodeURIComponent(token),
                        { headers: { Accept: 'application/json' }, cache: 'no-store' });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const msg = body && body.error ? body.error.message : 'This link does not work.';
    show('error', msg);
    $('cards').replaceChildren();
    $('intro').hidden = true;
    return;
  }
  if (body.host && body.host.name) {
    $('title').textContent = 'Connect your meeting accounts, ' + body.host.name;
  }
  $('cards').replaceChildren(...body.platforms.map((p) => card(p, body.platform)));
  $('expiry').textContent = 'This page works until ' + new Date(body.expires_at).toLocaleString() + '.';
  document.body.dataset.ready = 'true';
}

async function disconnect(p, button) {
  button.disabled = true;
  const r = await fetch('/connect/disconnect', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ t: token, platform: p.platform }),
  });
  if (!r.ok) {
    const body = await r.json().catch(() => null);
    show('error', body && body.error ? body.error.message : 'Disconnecting failed.');
    button.disabled = false;
    return;
  }
  show('notice', p.label + ' is disconnected.');
  await load();
}

const connected = params.get('connected');
if (connected) {
  const names = { google_meet: 'Google Meet', zoom: 'Zoom', teams: 'Microsoft Teams' };
  show('notice', (names[connected] || connected) + ' is connected.');
}
load().catch(() => show('error', 'The page could not load your connections. Try again.'));
