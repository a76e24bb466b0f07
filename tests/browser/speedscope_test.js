// speedscope_test.js - our speedscope files in the real speedscope app (npm `speedscope`),
// served on loopback from its dist folder, in headless Chromium driven by playwright-core.
//
// Usage: node speedscope_test.js DIST DIR CHROMIUM
//   DIST is speedscope's dist/release folder; DIR holds rt.speedscope.json and rt.folded
//   (run_browser.py writes them). The sandwich view's table (DOM, not canvas) is read:
//   every function by its bare name (no _[j]/_[i]/_[k] tag, no JIT tier or location), with
//   the total and self the folded stacks give. DIR also holds thr.speedscope.json, written
//   from thr.folded (threads kept apart, roots "[name tid]"): the profile menu lists the
//   merged profile first, then one profile per thread named "name (tid)" with its total,
//   and choosing one shows that thread's functions alone. Exit 0: all checks passed.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const [dist, dir, chromiumPath] = process.argv.slice(2);
let failures = 0;
function check(cond, what) {
  if (!cond) { failures++; console.error('FAIL: ' + what); }
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm' };
// The app from DIST, our files under /data/; nothing else.
function serve(req, res) {
  const u = path.posix.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  const file = u.startsWith('/data/') ? path.join(dir, path.basename(u))
    : path.join(dist, u === '/' ? 'index.html' : u);
  fs.readFile(file, (err, buf) => {
    res.writeHead(err ? 404 : 200,
      { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    res.end(err ? '' : buf);
  });
}

// Total and self per bare function name, from the folded stacks and the names the test
// expects speedscope to show for each folded frame.
function expected(bare) {
  const total = new Map(), self = new Map();
  let all = 0;
  for (const line of fs.readFileSync(path.join(dir, 'rt.folded'), 'utf8').split('\n')) {
    const m = /^(.*) (\d+)$/.exec(line);
    if (!m) continue;
    const names = m[1].split(';').map((f) => bare[f] || f), n = Number(m[2]);
    all += n;
    for (const f of new Set(names)) total.set(f, (total.get(f) || 0) + n);
    self.set(names[names.length - 1], (self.get(names[names.length - 1]) || 0) + n);
  }
  return { total, self, all };
}

// Per thread "name (tid)": its total and its functions' totals, from thr.folded.
function threadsExpected() {
  const threads = new Map();
  let all = 0;
  for (const line of fs.readFileSync(path.join(dir, 'thr.folded'), 'utf8').split('\n')) {
    const m = /^\[(.*) (\d+)\];(.*) (\d+)$/.exec(line);
    if (!m) continue;
    const name = `${m[1]} (${m[2]})`, n = Number(m[4]);
    const t = threads.get(name) || { total: 0, fns: new Map() };
    t.total += n;
    for (const f of new Set(m[3].split(';'))) t.fns.set(f, (t.fns.get(f) || 0) + n);
    threads.set(name, t);
    all += n;
  }
  return { threads, all };
}

// The sandwich table's rows: name -> total.
async function sandwichRows(page) {
  const lines = (await page.evaluate(() => document.body.innerText)).split('\n')
    .map((l) => l.trim()).filter((l) => l);
  const rows = new Map();
  for (let i = 0; i + 2 < lines.length; i++) {
    const t = /^(\d+) \(/.exec(lines[i]), s = /^(\d+) \(/.exec(lines[i + 1]);
    if (t && s && !/^\d+ \(/.test(lines[i + 2])) {
      rows.set(lines[i + 2], Number(t[1]));
      i += 2;
    }
  }
  return rows;
}

// The profile menu (speedscope's profile switcher, opened by clicking the profile name).
async function checkThreads(browser, base) {
  const want = threadsExpected();
  const page = await browser.newPage(); // a hash change alone would not load another file
  await page.goto(base + '/index.html#profileURL=' +
    encodeURIComponent(base + '/data/thr.speedscope.json'));
  const n = want.threads.size + 1;
  await page.waitForFunction((t) => document.body.innerText.includes(t), `thr (1/${n})`,
    { timeout: 30000 });
  await page.click(`text=thr (1/${n})`);
  await page.waitForFunction(() => document.body.innerText.includes('Total Weight'), null,
    { timeout: 30000 });
  const text = await page.evaluate(() => document.body.innerText);
  const menu = [];
  for (const m of text.matchAll(/^(\d+)\t(.+)\t(\d+)$/gm)) menu.push([m[2], Number(m[3])]);
  const names = [...want.threads.keys()].sort();
  const expect = [['thr', want.all]].concat(names.map((k) => [k, want.threads.get(k).total]));
  check(JSON.stringify(menu) === JSON.stringify(expect),
    `profile menu: the merged profile, then one per thread with its total: ` +
    `${JSON.stringify(menu)}, want ${JSON.stringify(expect)}`);
  // Choose the thread with the most functions; its sandwich holds those alone.
  const pick = names.reduce((a, b) => (want.threads.get(b).fns.size >
                                       want.threads.get(a).fns.size ? b : a));
  await page.click(`text=${pick}`);
  const k = names.indexOf(pick) + 2;
  await page.waitForFunction((t) => document.body.innerText.includes(t), `${pick} (${k}/${n})`,
    { timeout: 30000 });
  await page.keyboard.press('3');
  await page.waitForFunction(() => document.body.innerText.includes('Symbol Name'), null,
    { timeout: 30000 });
  await page.waitForFunction(() => /\n\d+ \(/.test(document.body.innerText), null,
    { timeout: 30000 }); // the rows come a frame after the header
  const rows = await sandwichRows(page);
  const fns = want.threads.get(pick).fns;
  check(rows.size === fns.size && [...fns].every(([f, t]) => rows.get(f) === t),
    `${pick}: its functions and totals alone: ${JSON.stringify([...rows])}, want ` +
    `${JSON.stringify([...fns])}`);
  console.log(`speedscope profile menu: ${names.length} threads after the merged profile, ` +
    `${pick} shown alone`);
}

async function main() {
  const bare = JSON.parse(fs.readFileSync(path.join(dir, 'bare.json'), 'utf8'));
  const want = expected(bare);
  const server = http.createServer(serve);
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const base = 'http://127.0.0.1:' + server.address().port;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(base + '/index.html#profileURL=' +
      encodeURIComponent(base + '/data/rt.speedscope.json'));
    await page.waitForFunction(() => document.body.innerText.includes('Sandwich'),
      null, { timeout: 30000 });
    await page.keyboard.press('3'); // the sandwich view: a table of functions
    await page.waitForFunction(() => document.body.innerText.includes('Symbol Name'),
      null, { timeout: 30000 });
    // The header comes first, the rows a frame later (a loaded machine showed none yet).
    await page.waitForFunction(() => /\n\d+ \(/.test(document.body.innerText),
      null, { timeout: 30000 });
    const text = await page.evaluate(() => document.body.innerText);
    const rows = new Map();
    // Each row: "T (P%)", "S (P%)", "name" on lines of their own.
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l);
    for (let i = 0; i + 2 < lines.length; i++) {
      const t = /^(\d+) \(/.exec(lines[i]), s = /^(\d+) \(/.exec(lines[i + 1]);
      if (t && s && !/^\d+ \(/.test(lines[i + 2])) {
        // One row per frame: a function's JIT tiers are frames of their own (the round trip
        // keeps them apart), rows of one name; the test's stacks never hold two of them.
        const r = rows.get(lines[i + 2]) || { total: 0, self: 0 };
        rows.set(lines[i + 2], { total: r.total + Number(t[1]), self: r.self + Number(s[1]) });
        i += 2;
      }
    }
    check(rows.size === want.total.size,
      `one row per function: ${rows.size} shown, ${want.total.size} expected: ` +
      [...rows.keys()].join(', '));
    for (const [name, row] of rows) {
      check(!/_\[[a-z0-9]\]$/.test(name) && !/^(JS:|py::)/.test(name),
        `name shown without tag or runtime prefix: ${name}`);
      check(row.total === want.total.get(name) && row.self === (want.self.get(name) || 0),
        `${name}: total ${row.total} self ${row.self}, folded says ` +
        `${want.total.get(name)} ${want.self.get(name) || 0}`);
    }
    check(text.includes('rt'), 'the profile is named');
    console.log(`speedscope ${rows.size} functions, total ${want.all}: names and totals checked`);
    await checkThreads(browser, base);
  } finally {
    await browser.close();
    server.close();
  }
}

main().then(() => process.exit(failures ? 1 : 0),
  (e) => { console.error('FAIL: ' + (e && e.stack || e)); process.exit(1); });
