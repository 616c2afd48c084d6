// The join gateway in a real browser (docs/gateway.md): Debian's headless chromium driven by
// playwright-core (no browser download), axe-core from npm run in each page.
//   - the page before the window shows the start in the viewer's own time zone and counts
//     down, on the server's clock even when this device's clock is an hour wrong, then lets
//     the guest in by itself;
//   - an admin bypasses the gate while the customer waits;
//   - a Twilio booking's link, end to end against the sandbox: the gateway opens the room,
//     mints the access token, meetlink's video page loads the twilio-video SDK (served by the
//     daemon from npm), starts camera and microphone, and the SDK tries to connect.
// Nothing leaves 127.0.0.1: every request to another host is intercepted (playwright routes,
// WebSockets included), the host resolver maps every other name to nothing, and WebRTC may
// not use UDP without a proxy. Starts its own sandbox and daemon, stops them by PID.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, API_KEY, dirs, start, api, check, axe, run } from './lib.mjs';

const PLATFORM = 'meet.school.test';

// The next request of `page` to the platform (a redirect's target: playwright's routes see
// only the first URL of a redirect chain, so it is not fulfilled, and the host resolver rule
// keeps it on this machine: it fails with ERR_NAME_NOT_RESOLVED, which is fine).
function platformRequest(page, timeout) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no request to the platform')), timeout);
    const on = (r) => {
      if (new URL(r.url()).hostname !== PLATFORM) return;
      clearTimeout(t);
      page.off('request', on);
      resolve(r.url());
    };
    page.on('request', on);
  });
}

function iso(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}


async function booking(d, serviceSettings, startMs, platform = 'jitsi') {
  const host = await api(d, 'POST', '/v1/hosts', { name: 'Ada Lovelace', email: `ada${startMs}@example.test` });
  const svc = await api(d, 'POST', '/v1/services', {
    host_id: host.id, name: 'Math tutoring', is_online: true, platform, duration_minutes: 30,
    settings: serviceSettings,
  });
  const b = await api(d, 'POST', '/v1/bookings', {
    service_id: svc.id, start: iso(startMs), timezone: 'Europe/London', title: 'Math with Ada',
    customer: { name: 'Grace Hopper', email: 'grace@example.test' }, status: 'confirmed',
  });
  const people = await api(d, 'GET', `/v1/bookings/${b.id}/participants`);
  const by = Object.fromEntries(people.data.map((p) => [p.role, p]));
  return { b, by };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'ml-browser-'));
  dirs.push(work);
  const sb = await start(['sandbox', '--listen', '127.0.0.1:0'], {}, work);
  const d = await start(['serve'], {
    MEETLINK_LISTEN: '127.0.0.1:0',
    MEETLINK_DB: 'sqlite:' + join(work, 'meetlink.db'),
    MEETLINK_BOOTSTRAP_API_KEY: API_KEY,
    MEETLINK_SANDBOX_URL: sb.url,
    MEETLINK_VAULT_KEYS: 'b1:' + 'C'.repeat(43) + '=',
    MEETLINK_JITSI_DOMAIN: PLATFORM,
    MEETLINK_RATE_LIMIT: '0',
  }, work);

  const profile = mkdtempSync(join(tmpdir(), 'ml-chromium-'));
  dirs.push(profile);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timezoneId: 'Asia/Tokyo', // the viewer's own zone, not the booking's (Europe/London)
    locale: 'en-US',
    permissions: ['camera', 'microphone'],
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
      '--force-webrtc-ip-handling-policy=disable_non_proxied_udp'],
  });
  const external = [];
  const sockets = [];
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1') return route.continue();
    external.push(u.href);
    return route.abort();
  });
  // The SDK's signalling connection (wss://global.vss.twilio.com/signaling): recorded, never
  // connected anywhere.
  await ctx.routeWebSocket(/.*/, (ws) => { sockets.push(ws.url()); ws.close(); });
  const cspErrors = [];
  const watch = (page) => page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  try {
    // 1. The countdown turns into the join by itself, on the server's clock.
    const opensIn = 20000; // room for a loaded machine: the page must still be early when it loads
    const opensAt = Date.now() + opensIn;
    const { b, by } = await booking(d, { join_window_minutes: 0 }, opensAt);
    const page = await ctx.newPage();
    watch(page);
    page.setDefaultTimeout(30000);
    // This device's clock is an hour behind: the page must not trust it.
    await page.clock.install({ time: Date.now() - 3600 * 1000 });
    await page.goto(by.customer.join_url);
    await page.locator('main[data-state="early"]').waitFor();
    await page.locator('#countdown:not([hidden])').waitFor();
    const startText = await page.textContent('#start');
    check(/GMT\+9/.test(startText), `start shown in the viewer's zone (got ${startText})`);
    const left = await page.textContent('#countdown');
    check(/^00:00:[0-2]\d$/.test(left), `countdown on the server's clock (got ${left})`);
    await axe(page, 'gateway: before the window');
    const t0 = Date.now();
    const went = await platformRequest(page, opensIn + 30000);
    check(went.startsWith(`https://${PLATFORM}/`), `sent to the platform (${went})`);
    const waited = Date.now() - t0;
    check(Date.now() >= opensAt - 1000, 'not let in before the window opened');
    check(Date.now() < opensAt + 15000, `entered by itself when the window opened (${waited} ms)`);
    const passes = (await api(d, 'GET', `/v1/bookings/${b.id}/participants`)).data
      .find((p) => p.role === 'customer').passes;
    check(passes.length === 1 && passes[0].destination === 'platform_url', 'one pass recorded: ' + JSON.stringify(passes));
    console.log(`ok - countdown page (device clock an hour off) let the guest in by itself after ${waited} ms`);

    // 2. The admin bypasses the gate; the customer is held.
    const later = await booking(d, {}, Date.now() + 2 * 3600 * 1000);
    const admin = await api(d, 'POST', `/v1/bookings/${later.b.id}/participants`,
      { role: 'admin', name: 'Ops', email: 'ops@example.test' });
    const held = await ctx.newPage();
    watch(held);
    await held.goto(later.by.customer.join_url);
    await held.locator('main[data-state="early"]').waitFor();
    const adminPage = await ctx.newPage();
    watch(adminPage);
    const adminWent = platformRequest(adminPage, 15000);
    await adminPage.goto(admin.join_url).catch(() => {}); // the platform itself is out of reach
    check((await adminWent).startsWith(`https://${PLATFORM}/`), 'the admin is sent to the platform');
    check(await held.locator('main[data-state="early"]').isVisible(), 'the customer is still held');
    console.log('ok - the admin bypasses the gate while the customer waits');

    // An ended meeting and an unknown link: clear pages, accessible.
    const ended = await booking(d, {}, Date.now() - 3 * 3600 * 1000);
    const endedResp = await held.goto(ended.by.customer.join_url);
    check(endedResp.status() === 410, 'ended: 410');
    await held.locator('main[data-state="ended"]').waitFor();
    await axe(held, 'gateway: ended');
    const unknown = await held.goto(d.url + '/j/' + 'A'.repeat(43));
    check(unknown.status() === 404, 'unknown link: 404');
    await axe(held, 'gateway: unknown link');

    // 3. Twilio, end to end against the sandbox.
    await api(d, 'PUT', '/v1/credentials/twilio', {
      account_sid: 'AC00000000000000000000000000000001',
      api_key_sid: 'SK00000000000000000000000000000001',
      api_key_secret: 'SandboxApiKeySecret0000000000001',
    });
    const tw = await booking(d, { join_window_minutes: 120 }, Date.now() + 3600 * 1000, 'twilio');
    const video = await ctx.newPage();
    watch(video);
    const pageErrors = [];
    video.on('pageerror', (e) => pageErrors.push(String(e)));
    video.setDefaultTimeout(30000);
    await video.goto(tw.by.customer.join_url);
    await video.waitForURL(/\/video\//);
    const room = tw.b.meeting.external_id;
    check(new URL(video.url()).pathname === `/video/${room}`, 'on meetlink\'s video page');
    check(new URL(video.url()).hash === '', 'the token is taken out of the address bar');
    await video.locator('#local video').waitFor(); // camera on (chromium's fake device)
    check(pageErrors.length === 0, 'the SDK loads under the strict CSP: ' + pageErrors.join('; '));
    const deadline = Date.now() + 20000;
    while (!sockets.some((u) => /twilio\.com/.test(u)) && Date.now() < deadline) await video.waitForTimeout(200);
    check(sockets.some((u) => /twilio\.com/.test(u)), `the SDK tried to connect to Twilio (${sockets.join(', ')})`);
    await axe(video, 'video page');
    const rooms = await (await fetch(`${sb.url}/_sandbox/state?provider=twilio`)).json();
    const all = Object.values((rooms.twilio || rooms).rooms || {});
    check(all.some((r) => r.unique_name === room && r.status === 'in-progress'), 'the room was opened on arrival');
    console.log(`ok - Twilio: link → room opened → video page → camera on → SDK connect attempt (${sockets.length} socket(s), all intercepted)`);

    check(external.every((u) => new URL(u).hostname === PLATFORM || /twilio\.com/.test(u)),
      'only the platform stub and Twilio were asked for: ' + external.join(', '));
    check(cspErrors.length === 0, 'no CSP violations: ' + cspErrors.join('; '));
  } finally {
    await ctx.close();
  }
}

await run(main);
