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
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.MEETLINK_BIN || join(here, '..', '..', 'build', 'meetlink');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const API_KEY = 'ml_browser_bootstrap_key_0123456789';
const children = [];
const dirs = [];

function start(args, env, cwd) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const rec = { p, log: '', exited: null };
    children.push(rec);
    p.stderr.on('data', (d) => { rec.log += d; });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start:\n${rec.log}`)), 20000);
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m && !rec.url) {
        rec.url = m[1];
        clearTimeout(timer);
        resolve(rec);
      }
    });
    p.on('exit', (code, sig) => {
      rec.exited = { code, sig };
      if (!rec.url) { clearTimeout(timer); reject(new Error(`${args[0]} exited ${code}:\n${rec.log}`)); }
    });
  });
}

async function stop(rec) {
  if (rec.exited) return rec.exited;
  const done = new Promise((r) => rec.p.on('exit', (code, sig) => r({ code, sig })));
  rec.p.kill('SIGTERM'); // by PID: this child only
  const t = setTimeout(() => rec.p.kill('SIGKILL'), 15000);
  const res = await done;
  clearTimeout(t);
  return res;
}

async function api(d, method, path, body) {
  const r = await fetch(d.url + path, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

function check(cond, msg) {
  if (!cond) throw new Error('assertion failed: ' + msg);
}

// Only loopback goes out; everything else is aborted.
async function fence(ctx) {
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' || u.hostname === 'localhost') return route.continue();
    return route.abort();
  });
}

// The stub platform: records the paths it is asked for.
function platform(hits) {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      hits.push(req.url);
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><html lang="en"><title>Platform</title><h1>In the meeting</h1></html>');
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

async function axe(page, what) {
  await page.evaluate(AXE); // through the DevTools protocol: the page's CSP still holds for it
  const res = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `${what}: axe violations ${JSON.stringify(bad.map((v) => [v.id, v.nodes.map((n) => n.target)]))}`);
  console.log(`ok - ${what}: axe-core, no serious or critical violation (${res.violations.length} minor)`);
}

function watchCsp(page, errors) {
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
}

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

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error('not ok -', e.stack || e);
}
for (const c of children.reverse()) {
  const r = await stop(c);
  if (r.code !== 0) {
    failed = true;
    console.error(`meetlink ${c.p.spawnargs[1]} exited uncleanly (${JSON.stringify(r)}):\n${c.log.slice(-4000)}`);
  }
}
for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
