// The waiting room in a real browser (docs/waiting-room.md): Debian's headless chromium
// driven by playwright-core, two browser contexts at once. A guest (on a phone-sized
// screen, by keyboard) confirms their name and waits; the host, on the panel reached from
// their own gateway link, sees them (title badge), admits, and the guest lands on the
// platform's URL. Another guest is rejected with a reason, asks again, and is admitted.
// axe-core finds no serious or critical violation on either page; no CSP violation.
//
// Nothing leaves 127.0.0.1: the service is on the `manual` platform with its link on a stub
// platform served here on loopback (a playwright route cannot follow the gateway's 303 to
// an outside host), and every request to another host is intercepted (playwright route) and
// aborted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, API_KEY, dirs, start, api, check, fence, platform, axe, watchCsp, run } from './lib.mjs';


// Only loopback goes out; everything else is aborted.

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'ml-browser-wr-'));
  dirs.push(work);
  const d = await start(['serve'], {
    MEETLINK_LISTEN: '127.0.0.1:0',
    MEETLINK_DB: 'sqlite:' + join(work, 'meetlink.db'),
    MEETLINK_BOOTSTRAP_API_KEY: API_KEY,
    MEETLINK_VAULT_KEYS: 'b1:' + 'C'.repeat(43) + '=',
  }, work);

  const hits = [];
  const plat = await platform(hits);
  const room = `http://127.0.0.1:${plat.address().port}/room-42`;
  const host = await api(d, 'POST', '/v1/hosts', { name: 'Ada Lovelace', email: 'ada@example.test' });
  const svc = await api(d, 'POST', '/v1/services', { host_id: host.id, name: 'Math tutoring',
    is_online: true, platform: 'manual', duration_minutes: 50,
    settings: { waiting_room: true, manual_url: room } });
  const start5 = new Date(Date.now() + 5 * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
  const bk = await api(d, 'POST', '/v1/bookings', { service_id: svc.id, start: start5, status: 'confirmed',
    title: 'Math <with> Ada', customer: { name: 'Grace Hopper', email: 'grace@example.test' },
    attendees: [{ name: 'Alan Turing', email: 'alan@example.test' }] });
  const people = (await api(d, 'GET', `/v1/bookings/${bk.id}/participants`)).data;
  const link = (role) => people.find((p) => p.role === role).join_url;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const cspErrors = [];
  try {
    // The guest on a phone-sized screen; the host on a desktop one.
    const guestCtx = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const hostCtx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await fence(guestCtx);
    await fence(hostCtx);
    const guest = await guestCtx.newPage();
    const hostPage = await hostCtx.newPage();
    for (const p of [guest, hostPage]) { p.setDefaultTimeout(15000); watchCsp(p, cspErrors); }

    // The guest's link holds them on the waiting page.
    await guest.goto(link('customer'));
    await guest.waitForURL(/\/wait$/);
    await guest.locator('#ask:not([hidden])').waitFor();
    check((await guest.textContent('#title')) === 'Math <with> Ada', 'the title, escaped as text');
    check(await guest.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      'the waiting page fits a phone screen');
    await axe(guest, 'waiting page (ask)');
    // By keyboard: the name field, then Enter.
    await guest.focus('#name');
    await guest.keyboard.press('Control+A');
    await guest.keyboard.type('Grace H.');
    await guest.keyboard.press('Enter');
    await guest.locator('#waiting:not([hidden])').waitFor();
    check((await guest.textContent('#status')).includes('Waiting since'), 'waiting since shown');
    await axe(guest, 'waiting page (waiting)');
    console.log('ok - guest: name confirmed by keyboard, waiting live');

    // The host's own link: the panel, with the guest and a title badge.
    await hostPage.goto(link('host'));
    await hostPage.waitForURL(/\/panel$/);
    await hostPage.locator('#waiting li', { hasText: 'Grace H.' }).waitFor();
    check((await hostPage.title()).startsWith('(1) '), 'title badge counts the waiting guest: ' + await hostPage.title());
    check((await hostPage.textContent('#count')) === '1', 'count 1');
    await axe(hostPage, 'host panel');
    console.log('ok - host panel: the guest is waiting, title badge (1)');

    // Admit: the guest is moved by the live stream (the latency itself is measured by
    // make bench, not asserted here: a wall-clock bound fails on a loaded machine).
    const t0 = Date.now();
    await hostPage.click('#waiting li button.admit');
    await guest.waitForURL(room, { timeout: 20000 });
    const took = Date.now() - t0;
    check(hits.includes('/room-42'), 'the platform URL was reached (the stub on loopback)');
    console.log(`ok - admitted: the guest landed on the platform URL in ${took} ms`);
    await hostPage.locator('#decided li', { hasText: 'admitted' }).waitFor();
    await hostPage.locator('#passes li', { hasText: 'Grace' }).waitFor();
    check(!(await hostPage.title()).startsWith('('), 'badge gone once nobody waits');

    // Reject with a reason, ask again, admit.
    const guest2Ctx = await browser.newContext({ viewport: { width: 375, height: 740 } });
    await fence(guest2Ctx);
    const guest2 = await guest2Ctx.newPage();
    guest2.setDefaultTimeout(15000);
    watchCsp(guest2, cspErrors);
    await guest2.goto(link('attendee'));
    await guest2.waitForURL(/\/wait$/);
    await guest2.locator('#ask:not([hidden])').waitFor();
    await guest2.click('#ask-button');
    await guest2.locator('#waiting:not([hidden])').waitFor();
    const row = hostPage.locator('#waiting li', { hasText: 'Alan Turing' });
    await row.waitFor();
    await row.locator('input').fill('Please <b>use</b> your own link');
    await row.locator('button.reject').click();
    await guest2.locator('#refused:not([hidden])').waitFor();
    check((await guest2.textContent('#reason')).includes('Please <b>use</b> your own link'), 'reason shown as text');
    check((await guest2.locator('#reason b').count()) === 0, 'the reason is not markup');
    await axe(guest2, 'waiting page (rejected)');
    await guest2.locator('#ask-button', { hasText: 'Ask again' }).click();
    await guest2.locator('#waiting:not([hidden])').waitFor();
    await hostPage.locator('#waiting li', { hasText: 'Alan Turing' }).locator('button.admit').click();
    await guest2.waitForURL(room, { timeout: 5000 });
    console.log('ok - rejected with a reason, asked again, admitted, landed');

    const w = await api(d, 'GET', `/v1/bookings/${bk.id}/waiting-room`);
    check(w.participants.every((p) => p.state === 'admitted'), 'the API agrees: everyone admitted');
    check(cspErrors.length === 0, 'no CSP violations: ' + cspErrors.join('; '));
  } finally {
    await browser.close();
    plat.close();
  }
}

await run(main);
