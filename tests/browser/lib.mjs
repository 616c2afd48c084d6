// What every browser test shares: the daemon started and stopped by PID, the API, checks,
// the loopback fence, the stub platform, axe-core and the CSP watch, and the run that stops
// every child and removes every directory whatever happened. Debian's chromium only
// (CHROMIUM), never a downloaded browser.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.MEETLINK_BIN || join(here, '..', '..', 'build', 'meetlink');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const API_KEY = 'ml_browser_bootstrap_key_0123456789';
const children = [];
export const dirs = [];

export function start(args, env, cwd) {
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

export async function api(d, method, path, body) {
  const r = await fetch(d.url + path, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

export function check(cond, msg) {
  if (!cond) throw new Error('assertion failed: ' + msg);
}


export async function fence(ctx) {
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' || u.hostname === 'localhost') return route.continue();
    return route.abort();
  });
}

// The stub platform: records the paths it is asked for.
export function platform(hits) {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      hits.push(req.url);
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><html lang="en"><title>Platform</title><h1>In the meeting</h1></html>');
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

export async function axe(page, what) {
  await page.evaluate(AXE); // through the DevTools protocol: the page's CSP still holds for it
  const res = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `${what}: axe violations ${JSON.stringify(bad.map((v) => [v.id, v.nodes.map((n) => n.target)]))}`);
  console.log(`ok - ${what}: axe-core, no serious or critical violation (${res.violations.length} minor)`);
}

export function watchCsp(page, errors) {
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
}

export async function run(main) {
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
}
