// The join gateway's page (src/api/gateway_page.c): the start in the viewer's own time zone,
// and before the window opens a live countdown that lets them in by itself. The server's
// clock is sent with the page (data-now): the countdown runs on it, not on a clock that may
// be wrong on this device.
const main = document.getElementById('gateway');

function at(name) {
  const v = main && main.dataset[name];
  const t = v ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? null : t;
}

function showLocalStart() {
  const el = document.getElementById('start');
  const t = at('start');
  if (!el || t === null) return;
  const fmt = new Intl.DateTimeFormat(undefined, {
    weekday: 'long', year: 'numeric', month: 'long', day: 'numeric',
    hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
  });
  el.textContent = fmt.format(new Date(t));
}

function two(n) { return String(n).padStart(2, '0'); }

function left(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (d > 0 ? d + 'd ' : '') + two(h) + ':' + two(m) + ':' + two(sec);
}

function words(ms) {
  const m = Math.ceil(ms / 60000);
  if (m > 90) return 'The meeting opens in about ' + Math.round(m / 60) + ' hours.';
  if (m > 1) return 'The meeting opens in ' + m + ' minutes.';
  return 'The meeting opens in less than a minute.';
}

function countdown() {
  const now = at('now'), opens = at('opensAt');
  const el = document.getElementById('countdown');
  const say = document.getElementById('announce');
  if (!el || now === null || opens === null) return;
  // The server's clock minus this device's, at load.
  const skew = now - Date.now();
  let spoken = '';
  el.hidden = false;
  const label = document.getElementById('opens');
  if (label) label.hidden = false;
  const tick = () => {
    const ms = opens - (Date.now() + skew);
    if (ms <= 0) {
      el.textContent = left(0);
      // The gate is open: the same link now lets them in (the server decides again).
      window.location.reload();
      return;
    }
    el.textContent = left(ms);
    const w = words(ms);
    if (say && w !== spoken) { say.textContent = w; spoken = w; }
    setTimeout(tick, Math.min(1000, ms));
  };
  tick();
}

function retry(seconds) {
  setTimeout(() => window.location.reload(), seconds * 1000);
}

showLocalStart();
if (main) {
  if (main.dataset.state === 'early') countdown();
  else if (main.dataset.state === 'not_ready') retry(5);
}
