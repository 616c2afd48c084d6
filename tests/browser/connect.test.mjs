// The connect page in a real browser: Debian's headless chromium driven by playwright-core
// (no browser download). For Google, Zoom and Microsoft: open the signed connect link, click
// Connect, approve on the sandbox's consent page, land back on the page and see the card say
// Connected with the account; a denied consent lands on a clear page; Disconnect works.
//
// Starts its own `meetlink sandbox` and `meetlink serve` on free ports (MEETLINK_BIN, default
// build/meetlink) and stops them by PID; fails on an unclean exit (sanitizer reports).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
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

const platforms = [
  { platform: 'google_meet', label: 'Google Meet', email: 'ada@sandbox.test', consent: /\/google\// },
  { platform: 'zoom', label: 'Zoom', email: 'ada@zoom.sandbox.test', consent: /\/zoom\// },
  { platform: 'teams', label: 'Microsoft Teams', email: 'ada@sandbox.onmicrosoft.com', consent: /\/microsoft\// },
];

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
  }, work);

  const profile = mkdtempSync(join(tmpdir(), 'ml-chromium-'));
  dirs.push(profile);
  // A fresh profile directory (playwright passes it as --user-data-dir).
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const host = await api(d, 'POST', '/v1/hosts', { name: 'Ada Lovelace', email: 'ada@example.test' });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    const cspErrors = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });

    for (const p of platforms) {
      const link = await api(d, 'POST', `/v1/hosts/${host.id}/connect-links`, { platform: p.platform });
      await page.goto(link.url);
      await page.waitForSelector('body[data-ready="true"]');
      check((await page.textContent(`#status-${p.platform}`)) === 'Not connected', `${p.platform} starts not connected`);
      check((await page.getAttribute(`#card-${p.platform}`, 'class')).includes('focus'), 'the link platform is highlighted');
      check((await page.locator('article.card').count()) === 3, 'three cards');
      await page.click(`#connect-${p.platform}`);
      await page.waitForURL(p.consent);
      await page.click('#allow');
      await page.waitForURL(/\/connect\?t=.*connected=/);
      await page.waitForSelector('body[data-ready="true"]');
      const status = await page.textContent(`#status-${p.platform}`);
      check(status === 'Connected', `${p.platform} card says Connected (got ${status})`);
      check((await page.textContent(`#account-${p.platform}`)) === p.email, `${p.platform} account shown`);
      check((await page.textContent('#notice')).includes(`${p.label} is connected`), 'notice shown');
      console.log(`ok - ${p.platform}: connect page → sandbox consent → back → Connected as ${p.email}`);
    }
    const conns = await api(d, 'GET', `/v1/hosts/${host.id}/connections`);
    check(conns.data.length === 3 && conns.data.every((c) => c.status === 'connected'), 'API shows three connections');

    // Denied consent: a clear page, nothing changes.
    const host2 = await api(d, 'POST', '/v1/hosts', { name: 'Grace Hopper', email: 'grace@example.test' });
    const link2 = await api(d, 'POST', `/v1/hosts/${host2.id}/connect-links`, { platform: 'google_meet' });
    await page.goto(link2.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('#connect-google_meet');
    await page.waitForURL(/\/google\//);
    await page.click('#deny');
    await page.waitForURL(/\/oauth\/google_meet\/callback/);
    check((await page.textContent('#title')) === 'Access was not granted', 'denied page title');
    await page.click('#back');
    await page.waitForSelector('body[data-ready="true"]');
    check((await page.textContent('#status-google_meet')) === 'Not connected', 'still not connected after denial');
    const none = await api(d, 'GET', `/v1/hosts/${host2.id}/connections`);
    check(none.data.length === 0, 'nothing stored after denial');
    console.log('ok - denied consent: clear page, nothing stored');

    // Disconnect from the page.
    const link3 = await api(d, 'POST', `/v1/hosts/${host.id}/connect-links`, { platform: 'zoom' });
    await page.goto(link3.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('#disconnect-zoom');
    // (locators, not waitForFunction: the page's CSP forbids eval, as it should)
    await page.locator('#status-zoom', { hasText: 'Disconnected' }).waitFor();
    const after = await api(d, 'GET', `/v1/hosts/${host.id}/connections`);
    check(after.data.find((c) => c.platform === 'zoom').status === 'revoked', 'zoom revoked in the API');
    console.log('ok - disconnect from the page');

    // A forged link: the page says so.
    await page.goto(d.url + '/connect?t=forged.link');
    await page.locator('#error:not([hidden])').waitFor();
    check((await page.textContent('#error')).includes('not valid'), 'forged link message');
    console.log('ok - forged link');
    check(cspErrors.length === 0, 'no CSP violations: ' + cspErrors.join('; '));
  } finally {
    await ctx.close();
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
