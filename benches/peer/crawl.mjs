// The peer of scripts/bench-pipeline.sh: what a user would write by hand with
// playwright-core to audit the Insider user push of a site.
//
// Usage: node crawl.mjs BASE_URL [--concurrency N] [--max-pages N] [--browser PATH]
//
// Launches Debian's Chromium (never a downloaded one), opens one context with N
// pages reused for the whole crawl, installs an init-script recorder that logs
// every push into window.InsiderQueue (also after the SDK replaces `push`), and
// crawls breadth first from BASE_URL within its origin: `goto` with
// waitUntil 'networkidle', 500 ms more, then one evaluate reads the log, the user
// read-back and the links. A few checks per page (queue created, user push,
// init push, whatsapp_optin a boolean). Prints one JSON line:
// {"pages":..,"problems":..,"errors":..,"seconds":..}.
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const opts = { concurrency: 4, maxPages: 500, browser: '/usr/bin/chromium', base: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--concurrency') opts.concurrency = Number(argv[++i]);
    else if (a === '--max-pages') opts.maxPages = Number(argv[++i]);
    else if (a === '--browser') opts.browser = argv[++i];
    else if (!opts.base) opts.base = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!opts.base) throw new Error('usage: node crawl.mjs BASE_URL [--concurrency N] [--max-pages N] [--browser PATH]');
  return opts;
}

// Runs in every document before the page's scripts.
const RECORDER = `(() => {
  const log = [];
  Object.defineProperty(window, '__insiderLog', { value: log });
  const copy = (v) => { try { return JSON.parse(JSON.stringify(v)); } catch (e) { return String(v); } };
  const watch = (q) => {
    if (!Array.isArray(q) || Object.prototype.hasOwnProperty.call(q, '__watched')) return;
    Object.defineProperty(q, '__watched', { value: true });
    let inner = q.push;
    const wrapper = function (...items) {
      for (const item of items) log.push(copy(item));
      return inner.apply(this, items);
    };
    Object.defineProperty(q, 'push', {
      configurable: true,
      get() { return wrapper; },
      set(fn) { inner = fn; },
    });
  };
  let queue;
  Object.defineProperty(window, 'InsiderQueue', {
    configurable: true,
    get() { return queue; },
    set(v) { queue = v; watch(v); },
  });
})();`;

function readPage() {
  const queue = window.InsiderQueue;
  return {
    queue: Array.isArray(queue),
    log: window.__insiderLog || [],
    user: queue && queue.user ? queue.user : null,
    insider: typeof window.Insider === 'object' && window.Insider !== null,
    links: Array.from(document.querySelectorAll('a[href]'), (a) => a.href),
  };
}

function check(result) {
  const problems = [];
  if (!result.queue) problems.push('queue-missing');
  const users = result.log.filter((e) => e && e.type === 'user');
  if (users.length === 0) problems.push('user-push-missing');
  if (!result.log.some((e) => e && e.type === 'init')) problems.push('init-missing');
  for (const u of users) {
    const v = u.value || {};
    if ('whatsapp_optin' in v && typeof v.whatsapp_optin !== 'boolean') problems.push('attr-type');
    if ('phone_number' in v && !/^\+[1-9]\d{6,14}$/.test(String(v.phone_number))) problems.push('attr-format');
  }
  if (!result.user) problems.push('user-not-returned');
  if (!result.insider) problems.push('sdk-missing');
  return problems;
}

function normalise(href, origin) {
  let url;
  try { url = new URL(href); } catch { return null; }
  if (url.origin !== origin) return null;
  url.hash = '';
  return url.href;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const browser = await chromium.launch({
    executablePath: opts.browser,
    headless: true,
    args: [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  await context.addInitScript({ content: RECORDER });
  const origin = new URL(opts.base).origin;
  const start = normalise(opts.base, origin);
  const seen = new Set([start]);
  const frontier = [start];
  let inFlight = 0;
  let pages = 0;
  let problems = 0;
  let errors = 0;
  const byRule = {};
  let wake = null;
  const notify = () => { if (wake) { const w = wake; wake = null; w(); } };

  async function worker(page) {
    for (;;) {
      if (frontier.length === 0) {
        if (inFlight === 0) return;
        await new Promise((resolve) => { const prev = wake; wake = () => { if (prev) prev(); resolve(); }; });
        continue;
      }
      const url = frontier.shift();
      inFlight++;
      try {
        await page.goto(url, { waitUntil: 'networkidle', timeout: 30000 });
        await page.waitForTimeout(500);
        const result = await page.evaluate(readPage);
        const found = check(result);
        problems += found.length;
        for (const rule of found) byRule[rule] = (byRule[rule] || 0) + 1;
        for (const href of result.links) {
          const next = normalise(href, origin);
          if (next && !seen.has(next) && seen.size < opts.maxPages) {
            seen.add(next);
            frontier.push(next);
          }
        }
      } catch (e) {
        errors++;
        process.stderr.write(`${url}: ${e.message.split('\n')[0]}\n`);
      }
      pages++;
      inFlight--;
      notify();
    }
  }

  const tabs = [];
  for (let i = 0; i < opts.concurrency; i++) tabs.push(await context.newPage());
  await Promise.all(tabs.map(worker));
  await context.close();
  await browser.close();
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ pages, problems, errors, by_rule: byRule, seconds }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(3);
});
