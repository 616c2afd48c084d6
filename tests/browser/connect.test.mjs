// The connect page in a real browser: Debian's headless chromium driven by playwright-core
// (no browser download). For Google, Zoom and Microsoft: open the signed connect link, click
// Connect, approve on the sandbox's consent page, land back on the page and see the card say
// Connected with the account; a denied consent lands on a clear page; Disconnect works.
//
// Starts its own `meetlink sandbox` and `meetlink serve` on free ports (MEETLINK_BIN, default
// build/meetlink) and stops them by PID; fails on an unclean exit (sanitizer reports).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, API_KEY, dirs, start, api, check, run } from './lib.mjs';


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

await run(main);
