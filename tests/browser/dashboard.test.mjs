// The dashboard's booking page shows live presence (docs/presence.md): Debian's headless
// chromium driven by playwright-core. The operator opens a booking on the dashboard; the
// customer then passes the join gateway (a platform that reports nothing, so the gateway's
// pass is the presence) and the host after them; the open page shows each of them "in the
// meeting" with the time, without a reload and without polling: the page reads
// GET /v1/bookings/{id}/participants/events with the API key in the Authorization header,
// never in a URL (every request the page makes is checked). axe-core finds no serious or
// critical violation; no CSP violation.
//
// Nothing leaves 127.0.0.1: the service is on the `manual` platform with its link on a stub
// platform served here on loopback, and every request to another host is aborted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, API_KEY, dirs, start, api, check, fence, platform, axe, watchCsp, run } from './lib.mjs';

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'ml-browser-dash-'));
  dirs.push(work);
  const d = await start(['serve'], {
    MEETLINK_LISTEN: '127.0.0.1:0',
    MEETLINK_DB: 'sqlite:' + join(work, 'meetlink.db'),
    MEETLINK_BOOTSTRAP_API_KEY: API_KEY,
    MEETLINK_VAULT_KEYS: 'b1:' + 'C'.repeat(43) + '=',
  }, work);

  const hits = [];
  const plat = await platform(hits);
  const room = `http://127.0.0.1:${plat.address().port}/room-9`;
  const host = await api(d, 'POST', '/v1/hosts', { name: 'Ada Lovelace', email: 'ada@example.test' });
  const svc = await api(d, 'POST', '/v1/services', { host_id: host.id, name: 'Math tutoring',
    is_online: true, platform: 'manual', duration_minutes: 50, settings: { manual_url: room } });
  const start5 = new Date(Date.now() + 5 * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
  const bk = await api(d, 'POST', '/v1/bookings', { service_id: svc.id, start: start5, status: 'confirmed',
    title: 'Math with Ada', customer: { name: 'Grace Hopper', email: 'grace@example.test' } });
  const people = (await api(d, 'GET', `/v1/bookings/${bk.id}/participants`)).data;
  const person = (role) => people.find((p) => p.role === role);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const cspErrors = [];
  try {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await fence(ctx);
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    watchCsp(page, cspErrors);
    const urls = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(d.url + '/');
    await page.fill('#api-key', API_KEY);
    await page.press('#api-key', 'Enter');
    await page.locator('#bookings tbody tr', { hasText: 'Math with Ada' }).click();
    const row = (role) => page.locator(`#participants tbody tr[data-participant="${person(role).id}"]`);
    await row('customer').waitFor();
    await page.locator('#live', { hasText: 'Live' }).waitFor();
    check((await row('customer').textContent()).includes('invited'), 'customer invited at first');
    check((await page.textContent('#presence-source')).includes('join gateway'), 'says presence comes from the gateway');
    await axe(page, 'dashboard booking (live participants)');
    const loads = urls.filter((u) => u.endsWith('/')).length;

    // The customer passes the gateway (outside the page): the open page shows it.
    const before = Date.now();
    let r = await fetch(person('customer').join_url, { redirect: 'manual' });
    check(r.status === 303 && r.headers.get('location') === room, 'the customer passed: ' + r.status);
    await row('customer').locator('td.state-in_meeting', { hasText: 'in the meeting' }).waitFor();
    const took = Date.now() - before;
    const joined = (await row('customer').locator('td').nth(4).textContent()).trim();
    check(/^\d{4}-\d\d-\d\dT/.test(joined), 'the join time shows: ' + joined);
    check((await row('host').textContent()).includes('invited'), 'the host has not passed yet');
    console.log(`ok - the customer's pass shows on the open dashboard in ${took} ms`);
    r = await fetch(person('host').join_url, { redirect: 'manual' });
    check(r.status === 303, 'the host passed: ' + r.status);
    await row('host').locator('td.state-in_meeting').waitFor();
    console.log('ok - then the host\'s');

    // The API agrees, and nothing was reloaded or polled: one page load, one stream, the
    // key never in a URL.
    const api1 = await api(d, 'GET', `/v1/bookings/${bk.id}/participants`);
    check(api1.data.every((p) => p.role === 'attendee' || p.state === 'in_meeting'), 'API: both in the meeting');
    check(urls.filter((u) => u.endsWith('/')).length === loads, 'no reload');
    const streams = urls.filter((u) => u.includes('/participants/events'));
    check(streams.length === 1, 'one stream, no polling: ' + JSON.stringify(streams));
    const lists = urls.filter((u) => u.endsWith(`/v1/bookings/${bk.id}/participants`));
    check(lists.length === 1, 'the list was read once: ' + lists.length);
    check(!urls.some((u) => u.includes(API_KEY)), 'no API key in any URL');
    await axe(page, 'dashboard booking (people in the meeting)');
    check(cspErrors.length === 0, 'no CSP violations: ' + cspErrors.join('; '));
    check(hits.includes('/room-9') === false, 'nobody in the browser went to the platform');
    console.log('ok - live presence on the dashboard, axe-core clean, strict CSP');
  } finally {
    await browser.close();
    plat.close();
  }
}

await run(main);
