// Ending a meeting for everyone from the host panel, in a real browser (docs/providers.md,
// docs/waiting-room.md): Debian's headless chromium driven by playwright-core. A guest (on a
// phone-sized screen) waits; the host, on the panel reached from their own gateway link,
// presses "End the meeting for everyone" by keyboard, is asked once more, confirms; the
// panel says it ended (nothing left to join or admit), the guest's live page says the meeting
// has ended, the API shows the booking completed with booking.ended, and the host's own link
// now answers 410. axe-core finds no serious or critical violation; no CSP violation.
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
  const work = mkdtempSync(join(tmpdir(), 'ml-browser-end-'));
  dirs.push(work);
  const d = await start(['serve'], {
    MEETLINK_LISTEN: '127.0.0.1:0',
    MEETLINK_DB: 'sqlite:' + join(work, 'meetlink.db'),
    MEETLINK_BOOTSTRAP_API_KEY: API_KEY,
    MEETLINK_VAULT_KEYS: 'b1:' + 'C'.repeat(43) + '=',
  }, work);

  const hits = [];
  const plat = await platform(hits);
  const room = `http://127.0.0.1:${plat.address().port}/room-7`;
  const host = await api(d, 'POST', '/v1/hosts', { name: 'Ada Lovelace', email: 'ada@example.test' });
  const svc = await api(d, 'POST', '/v1/services', { host_id: host.id, name: 'Math tutoring',
    is_online: true, platform: 'manual', duration_minutes: 50,
    settings: { waiting_room: true, manual_url: room } });
  const start5 = new Date(Date.now() + 5 * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
  const bk = await api(d, 'POST', '/v1/bookings', { service_id: svc.id, start: start5, status: 'confirmed',
    title: 'Math with Ada', customer: { name: 'Grace Hopper', email: 'grace@example.test' } });
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
    const guestCtx = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const hostCtx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await fence(guestCtx);
    await fence(hostCtx);
    const guest = await guestCtx.newPage();
    const hostPage = await hostCtx.newPage();
    for (const p of [guest, hostPage]) { p.setDefaultTimeout(15000); watchCsp(p, cspErrors); }

    // The guest waits.
    await guest.goto(link('customer'));
    await guest.waitForURL(/\/wait$/);
    await guest.locator('#ask:not([hidden])').waitFor();
    await guest.click('#ask-button');
    await guest.locator('#waiting:not([hidden])').waitFor();

    // The host's panel offers the end, and asks once more before doing it.
    await hostPage.goto(link('host'));
    await hostPage.waitForURL(/\/panel$/);
    await hostPage.locator('#waiting li', { hasText: 'Grace' }).waitFor();
    check(await hostPage.isVisible('#end'), 'the end button is on the panel');
    check(await hostPage.isHidden('#end-confirm'), 'no confirmation before asking');
    await hostPage.focus('#end');
    await hostPage.keyboard.press('Enter');
    await hostPage.locator('#end-confirm:not([hidden])').waitFor();
    check(await hostPage.evaluate(() => document.activeElement.id === 'end-yes'), 'focus on "End it now"');
    await axe(hostPage, 'host panel (confirming the end)');
    // "Keep it going" backs out: nothing happened.
    await hostPage.click('#end-no');
    check(await hostPage.isHidden('#end-confirm'), 'backed out');
    check((await api(d, 'GET', `/v1/bookings/${bk.id}`)).status === 'confirmed', 'still confirmed after backing out');
    await hostPage.click('#end');
    await hostPage.keyboard.press('Enter'); // on "End it now"
    await hostPage.locator('#status', { hasText: 'The meeting has ended for everyone.' }).waitFor();
    check((await hostPage.textContent('#status')).includes('has no call to end a meeting'),
      'the panel says what the platform could not do: ' + await hostPage.textContent('#status'));
    for (const id of ['#end', '#join', '#admit-all']) check((await hostPage.locator(id).count()) === 0, `${id} gone`);
    await axe(hostPage, 'host panel (ended)');
    console.log('ok - host panel: end asked twice, by keyboard, then ended');

    // The guest's live page is told.
    await guest.locator('#refused:not([hidden])').waitFor();
    check((await guest.textContent('#refused-message')).startsWith('This meeting has ended.'),
      'the guest reads that it ended: ' + await guest.textContent('#refused-message'));
    await axe(guest, 'waiting page (ended)');
    console.log('ok - the waiting guest is told the meeting has ended');

    const b = await api(d, 'GET', `/v1/bookings/${bk.id}`);
    check(b.status === 'completed', 'booking completed');
    check(b.ended && b.ended.method === 'gateway' && b.ended.ended_at_platform === false, 'ended: ' + JSON.stringify(b.ended));
    check(b.ended.by.startsWith('host:'), 'ended by the host from the panel');
    const r = await fetch(link('host'), { redirect: 'manual' });
    check(r.status === 410, 'the host link now answers 410: ' + r.status);
    // Reloaded, the panel says it is over and offers nothing.
    await hostPage.reload();
    await hostPage.locator('#ended').waitFor();
    check((await hostPage.locator('#end').count()) === 0, 'no end button on an ended meeting');
    check(!hits.includes('/room-7'), 'nobody was sent into the meeting');
    check(cspErrors.length === 0, 'no CSP violations: ' + cspErrors.join('; '));
    console.log('ok - API: completed with booking.ended; the gateway is closed');
  } finally {
    await browser.close();
    plat.close();
  }
}

await run(main);
