// meetlink's own Twilio video page (src/api/video_page.c). The gateway sends people here
// with their access token in the URL fragment, which no request carries to a server; it is
// read once and removed from the address bar, so a copied or bookmarked URL holds no token.
const $ = (id) => document.getElementById(id);
const room = decodeURIComponent(window.location.pathname.split('/').pop() || '');
const params = new URLSearchParams(window.location.hash.slice(1));
const token = params.get('access_token');
history.replaceState(null, '', window.location.pathname);

let current = null;

function status(text) { $('status').textContent = text; }

function fail(text) {
  const e = $('error');
  e.textContent = text;
  e.hidden = false;
}

function attach(track, where) {
  if (track.kind !== 'video' && track.kind !== 'audio') return;
  const el = track.attach();
  if (track.kind === 'video') el.setAttribute('aria-label', where === 'local' ? 'Your camera' : 'A participant');
  $(where).appendChild(el);
}

function detach(track) {
  if (typeof track.detach === 'function') track.detach().forEach((el) => el.remove());
}

function participantJoined(p) {
  p.tracks.forEach((pub) => { if (pub.track) attach(pub.track, 'remote'); });
  p.on('trackSubscribed', (t) => attach(t, 'remote'));
  p.on('trackUnsubscribed', detach);
}

function toggle(button, kind, onText, offText) {
  button.addEventListener('click', () => {
    if (!current) return;
    const off = button.getAttribute('aria-pressed') !== 'true';
    current.localParticipant[kind === 'video' ? 'videoTracks' : 'audioTracks'].forEach((pub) => {
      if (off) pub.track.disable(); else pub.track.enable();
    });
    button.setAttribute('aria-pressed', off ? 'true' : 'false');
    button.textContent = off ? onText : offText;
  });
}

function leave() {
  if (current) current.disconnect();
  current = null;
  $('leave').disabled = true;
  $('camera').disabled = true;
  $('microphone').disabled = true;
  status('You left the meeting. Use your meeting link to come back.');
}

async function start() {
  if (!token || !room) {
    status('');
    fail('This page needs your personal meeting link. Open the link you were sent again.');
    return;
  }
  const Video = window.Twilio && window.Twilio.Video;
  if (!Video) {
    fail('The video software could not be loaded.');
    return;
  }
  toggle($('camera'), 'video', 'Turn camera on', 'Turn camera off');
  toggle($('microphone'), 'audio', 'Unmute microphone', 'Mute microphone');
  $('leave').addEventListener('click', leave);
  let tracks = [];
  try {
    status('Starting your camera and microphone…');
    tracks = await Video.createLocalTracks({ audio: true, video: { width: 640 } });
    tracks.forEach((t) => attach(t, 'local'));
  } catch (e) {
    fail('Your camera or microphone could not be started: ' + (e && e.message ? e.message : e));
  }
  status('Connecting to the meeting…');
  $('leave').disabled = false;
  try {
    current = await Video.connect(token, { name: room, tracks });
  } catch (e) {
    status('');
    fail('Could not connect to the meeting (' + (e && e.message ? e.message : e) +
         '). Open your meeting link again to retry.');
    $('leave').disabled = true;
    return;
  }
  status('You are in the meeting.');
  $('camera').disabled = false;
  $('microphone').disabled = false;
  current.participants.forEach(participantJoined);
  current.on('participantConnected', participantJoined);
  current.on('participantDisconnected', (p) => p.tracks.forEach((pub) => pub.track && detach(pub.track)));
  current.on('disconnected', () => { if (current) leave(); });
}

window.addEventListener('pagehide', () => { if (current) current.disconnect(); });
if (document.readyState === 'complete') start();
else window.addEventListener('load', start);
