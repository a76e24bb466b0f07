// browser_test.js - the SVG flame graphs in a real browser: headless Chromium driven by
// playwright-core, with real mouse clicks, key presses and prompt dialogs.
//
// Usage: node browser_test.js DIR CHROMIUM
//   DIR holds the SVGs and folded files run_browser.py generated (see there); CHROMIUM is
//   the browser binary. Exit 0: all checks passed.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [dir, chromiumPath] = process.argv.slice(2);
let failures = 0, checks = 0;
function check(cond, what) {
  checks++;
  if (!cond) { failures++; console.error('FAIL: ' + what); }
}
const url = (name, query) => 'file://' + path.join(dir, name) + (query || '');
const MAGENTA = 'rgb(230,0,230)';

// ---- what the folded input says --------------------------------------------------------

function readFolded(name) {
  const stacks = [];
  for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
    const m = /^(.*) (\d+)$/.exec(line);
    if (m) stacks.push({ frames: m[1].split(';'), n: Number(m[2]) });
  }
  return stacks;
}
const total = (stacks) => stacks.reduce((s, x) => s + x.n, 0);
// Samples of the stacks with at least one matching frame: recursion counts once.
const matchedSamples = (stacks, re) =>
  stacks.filter((s) => s.frames.some((f) => re.test(f))).reduce((a, s) => a + s.n, 0);
// Distinct paths (drawn frames, when nothing is merged) whose own name matches; the root
// is the frame "all".
function matchingPaths(stacks, re) {
  const paths = new Set(re.test('all') ? [''] : []);
  for (const s of stacks)
    for (let d = 1; d <= s.frames.length; d++)
      if (re.test(s.frames[d - 1])) paths.add(s.frames.slice(0, d).join(';'));
  return paths.size;
}
const pct = (part, whole) => (whole ? (100 * part) / whole : 0).toFixed(2) + '%';

// ---- what the page shows ---------------------------------------------------------------

// Every frame: its title, geometry, fill and visibility, as the browser has them now.
const framesOf = (page) => page.evaluate(() =>
  Array.from(document.querySelectorAll('#frames > g')).map((g) => {
    const r = g.querySelector('rect'), box = r.getBoundingClientRect();
    return {
      title: g.querySelector('title').textContent, s: Number(g.getAttribute('data-s')),
      n: Number(g.getAttribute('data-n')), x: r.getAttribute('x'), w: r.getAttribute('width'),
      fill: r.getAttribute('fill'), hidden: getComputedStyle(g).display === 'none',
      cx: box.x + box.width / 2, cy: box.y + box.height / 2, bw: box.width,
    };
  }));
const named = (frames, name) => frames.filter((f) => f.title.startsWith(name + ' ('));
// The URL as the page has it (playwright's page.url() learns of replaceState late).
const href = (page) => page.evaluate(() => location.href);
const text = (page, id) => page.evaluate((i) => {
  const e = document.getElementById(i);
  return getComputedStyle(e).display === 'none' ? null : e.textContent;
}, id);
async function clickFrame(page, frame) {
  await page.mouse.click(frame.cx, frame.cy); // a real click where the frame is drawn
}
async function hover(page, frame) {
  await page.mouse.move(frame.cx, frame.cy);
  return text(page, 'details');
}
// Ctrl-F, answering the prompt with term.
async function searchFor(page, term) {
  page.once('dialog', (d) => d.accept(term));
  await page.keyboard.press('Control+f');
  await page.waitForFunction(() => !document.getElementById('matched').classList.contains('hide'));
}

async function openPage(ctx, name, query, errors) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(name + ': ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(name + ': ' + m.text()); });
  await page.goto(url(name, query));
  return page;
}

// ---- scenarios -------------------------------------------------------------------------

// small.svg: 'main;a;a;a 10', 'main;a;b 5', 'main;c 5', 'other;a 20' at 1020 px.
async function testSmall(ctx, errors) {
  const page = await openPage(ctx, 'small.svg', '', errors);
  let fr = await framesOf(page);
  check(fr.length === 9, 'nine frames (' + fr.length + ')');
  const mainA = fr.find((f) => f.title === 'a (15 samples, 37.50%)');
  check(mainA && mainA.w === '375', 'main;a is 375 px wide: ' + (mainA && mainA.w));
  check((await hover(page, mainA)) === 'a (15 samples, 37.50%)', 'hover shows the title');

  // Click to zoom: the frame spans the full width, unrelated frames disappear.
  await clickFrame(page, mainA);
  fr = await framesOf(page);
  let z = fr.find((f) => f.title === mainA.title);
  check(z.x === '10.00' && z.w === '1000.00', 'zoomed frame spans the width: ' + z.x + ' ' + z.w);
  check(Math.abs(z.bw - 1000) < 1.5, 'and is drawn 1000 px wide: ' + z.bw);
  check(named(fr, 'other').every((f) => f.hidden) && named(fr, 'c').every((f) => f.hidden),
    'frames outside the zoomed one are hidden');
  const b = named(fr, 'b')[0];
  check(!b.hidden && b.w === '333.33', 'children rescaled: ' + b.w);
  check((await text(page, 'unzoom')) === 'Reset Zoom', 'Reset Zoom shown');
  check(/\?x=0&y=2$/.test((await href(page))), 'zoom is in the URL: ' + (await href(page)));
  check((await hover(page, b)) === 'b (5 samples, 12.50%) [33.33% of the zoomed frame]',
    'hover while zoomed gives the share of the zoomed frame: ' + (await text(page, 'details')));

  // Reset Zoom restores every frame.
  const unzoom = await page.evaluate(() => {
    const r = document.getElementById('unzoom').getBoundingClientRect();
    return { cx: r.x + r.width / 2, cy: r.y + r.height / 2 };
  });
  await page.mouse.click(unzoom.cx, unzoom.cy);
  const back = await framesOf(page);
  check(JSON.stringify(back.map((f) => [f.x, f.w, f.hidden])) ===
        JSON.stringify((await framesOfFresh(ctx, 'small.svg')).map((f) => [f.x, f.w, f.hidden])),
    'Reset Zoom restores every frame');
  check((await text(page, 'unzoom')) === null, 'Reset Zoom hidden again');
  check(!(await href(page)).includes('?'), 'URL state cleared: ' + (await href(page)));

  // Ctrl-F search: exactly the frames named a, and a share that counts a;a;a once.
  await searchFor(page, '^a$');
  fr = await framesOf(page);
  const lit = fr.filter((f) => f.fill === MAGENTA).map((f) => f.title).sort();
  const want = fr.filter((f) => /^a \(/.test(f.title)).map((f) => f.title).sort();
  check(JSON.stringify(lit) === JSON.stringify(want) && lit.length === 4,
    'highlighted exactly the a frames: ' + lit);
  check((await text(page, 'matched')) === 'Matched: 87.50%', 'Matched 87.50%: ' + (await text(page, 'matched')));
  check((await href(page)).endsWith('?s=%5Ea%24'), 'search is in the URL: ' + (await href(page)));

  // Ignore case from the "ic" button, which re-runs the search.
  await searchFor(page, '^A$');
  check((await text(page, 'matched')) === 'Matched: 0.00%', 'case-sensitive by default');
  const ic = await page.evaluate(() => {
    const r = document.getElementById('ignorecase').getBoundingClientRect();
    return { cx: r.x + r.width / 2, cy: r.y + r.height / 2 };
  });
  await page.mouse.click(ic.cx, ic.cy);
  check((await text(page, 'matched')) === 'Matched: 87.50%', 'ic ignores case');
  check((await href(page)).endsWith('?s=%5EA%24&i=1'), 'ignore-case is in the URL: ' + (await href(page)));

  // Zoom and search together survive a reload.
  fr = await framesOf(page);
  await clickFrame(page, fr.find((f) => f.title === mainA.title));
  check(/\?x=0&y=2&s=%5EA%24&i=1$/.test((await href(page))), 'zoom + search in the URL: ' + (await href(page)));
  await page.reload();
  fr = await framesOf(page);
  z = fr.find((f) => f.title === mainA.title);
  check(z.w === '1000.00' && named(fr, 'other').every((f) => f.hidden), 'reload keeps the zoom');
  check((await text(page, 'matched')) === 'Matched: 87.50%', 'reload keeps the search');
  check(fr.filter((f) => f.fill === MAGENTA).length === 4, 'reload keeps the highlights');
  check((await page.evaluate(() => document.getElementById('ignorecase').classList.contains('show'))),
    'reload keeps ignore-case');

  // Escape resets the search, then the zoom.
  await page.keyboard.press('Escape');
  check((await text(page, 'matched')) === null, 'Escape resets the search');
  await page.keyboard.press('Escape');
  fr = await framesOf(page);
  check(!fr.some((f) => f.hidden), 'second Escape resets the zoom');
  check((await href(page)).endsWith('?i=1'), 'only ignore-case is left in the URL: ' + (await href(page)));
  await page.close();

  // A link with the state opens in that state; junk in the URL is ignored.
  const linked = await openPage(ctx, 'small.svg', '?x=20&y=1&s=b%7Cc', errors);
  fr = await framesOf(linked);
  const other = fr.find((f) => f.title.startsWith('other ('));
  check(other.w === '1000.00' && named(fr, 'main').every((f) => f.hidden), 'link zooms on other');
  check((await text(linked, 'matched')) === 'Matched: 25.00%', 'link searches b|c');
  await linked.close();
  const junk = await openPage(ctx, 'small.svg', '?x=abc&y=%ZZ&s=%E0%A4%A&zzz', errors);
  check(!(await framesOf(junk)).some((f) => f.hidden), 'junk in the URL: nothing zoomed');
  await junk.close();
}

async function framesOfFresh(ctx, name) {
  const page = await ctx.newPage();
  await page.goto(url(name));
  const fr = await framesOf(page);
  await page.close();
  return fr;
}

// random.svg (--minwidth 0): recursion everywhere; every regex's Matched share must be
// the samples of the stacks with a matching frame, and the highlights the matching paths.
async function testRandom(ctx, errors) {
  const stacks = readFolded('random.folded');
  const page = await openPage(ctx, 'random.svg', '', errors);
  for (const term of ['^f1$', 'f1', '^f[0-3]$', 'f(2|7)$', '^nomatch$', '.']) {
    const re = new RegExp(term);
    await searchFor(page, term);
    const want = 'Matched: ' + pct(matchedSamples(stacks, re), total(stacks));
    check((await text(page, 'matched')) === want, term + ': ' + (await text(page, 'matched')) + ' != ' + want);
    const lit = (await framesOf(page)).filter((f) => f.fill === MAGENTA).length;
    check(lit === matchingPaths(stacks, re), term + ': ' + lit + ' frames highlighted, want ' +
      matchingPaths(stacks, re));
    await page.keyboard.press('Escape');
  }
  // Zoom on a deep frame and back: every frame comes back where it was.
  const before = await framesOf(page);
  const deep = before.filter((f) => f.bw > 30).sort((a, b) => b.cy - a.cy).pop();
  await clickFrame(page, deep);
  const zoomed = (await framesOf(page)).find((f) => f.s === deep.s && f.cy === deep.cy);
  check(zoomed && zoomed.w === '1180.00', 'a deep frame zooms to the width: ' + (zoomed && zoomed.w));
  await page.keyboard.press('Escape');
  const after = await framesOf(page);
  check(JSON.stringify(after.map((f) => [f.x, f.w])) === JSON.stringify(before.map((f) => [f.x, f.w])),
    'reset restores the random graph');
  await page.close();
}

// inverted.svg: an icicle graph zooms the same way.
async function testInverted(ctx, errors) {
  const page = await openPage(ctx, 'inverted.svg', '', errors);
  const fr = await framesOf(page);
  const mainA = fr.find((f) => f.title === 'a (15 samples, 37.50%)');
  const main = fr.find((f) => f.title.startsWith('main ('));
  check(mainA.cy > main.cy, 'icicle: children below their parent');
  await clickFrame(page, mainA);
  const z = (await framesOf(page)).find((f) => f.title === mainA.title);
  check(z.w === '1000.00', 'icicle zoom spans the width: ' + z.w);
  await page.close();
}

// deep.svg, deep_inv.svg: 150 frames deep (~2,450 px), with the wide frames near the root.
// A flame graph opens at its bottom, an icicle at its top: the root row and the wide frame
// in the window, on load, after Reset Zoom and on a reload with a zoom in the URL.
const inWindow = (page, f) => page.evaluate((cy) => cy > 0 && cy < window.innerHeight, f.cy);
async function testDeep(ctx, errors) {
  for (const [name, inv] of [['deep.svg', false], ['deep_inv.svg', true]]) {
    const what = (inv ? 'icicle' : 'flame graph') + ' ' + name;
    const page = await openPage(ctx, name, '', errors);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    const inner = await page.evaluate(() => window.innerHeight);
    check(height > 2000 && height > 2 * inner, what + ': taller than the window (' + height + ')');
    let fr = await framesOf(page);
    const wide = fr.find((f) => f.title.startsWith('wide ('));
    const sy = await page.evaluate(() => window.scrollY);
    check(inv ? sy === 0 : sy + inner >= height - 1, what + ': opens at the ' +
          (inv ? 'top' : 'bottom') + ' (scrollY ' + sy + ')');
    check(await inWindow(page, wide), what + ': the wide frame in the window on load');
    const deepFrame = fr.find((f) => f.title.startsWith('d60 ('));
    if (!inv) {
      await page.evaluate(() => window.scrollTo(0, 0));
      fr = await framesOf(page);
    }
    const d60 = fr.find((f) => f.title.startsWith('d60 ('));
    await page.evaluate((y) => window.scrollBy(0, y - window.innerHeight / 2), d60.cy);
    const d60b = (await framesOf(page)).find((f) => f.title === deepFrame.title);
    await clickFrame(page, d60b);
    const zoomedUrl = await href(page);
    check(/[?&]y=61/.test(zoomedUrl), what + ': zoom in the URL (' + zoomedUrl + ')');
    await page.reload();
    const z = (await framesOf(page)).find((f) => f.title === deepFrame.title);
    check(await inWindow(page, z), what + ': reloaded zoomed, the zoomed frame in the window');
    check(await href(page) === zoomedUrl, what + ': the URL state kept on reload');
    await page.click('#unzoom');
    const w2 = (await framesOf(page)).find((f) => f.title.startsWith('wide ('));
    check(await inWindow(page, w2), what + ': after Reset Zoom the wide frame in the window');
    check(!/[?&]y=/.test(await href(page)), what + ': Reset Zoom clears the URL zoom');
    await page.close();
  }
}

// diff.svg: BEFORE 'main;a 10, main;b 10, main;gone 20' -> AFTER 'main;a 30, main;b 10'.
async function testDiff(ctx, errors) {
  const page = await openPage(ctx, 'diff.svg', '', errors);
  const fr = await framesOf(page);
  const a = fr.find((f) => f.title.startsWith('a ('));
  check((await hover(page, a)) === 'a (30 samples, 75.00%; before 10 samples, 25.00%; +50.00%)',
    'diff hover: both counts and the change: ' + (await text(page, 'details')));
  check(a.fill === 'rgb(255,0,0)', 'the largest growth is deep red: ' + a.fill);
  const gone = fr.find((f) => f.title.startsWith('gone ('));
  check(gone && gone.bw > 100 && /^rgb\(\d+,\d+,255\)$/.test(gone.fill),
    'the path that disappeared is drawn, blue: ' + JSON.stringify(gone));
  await searchFor(page, '^(a|gone)$');
  check((await text(page, 'matched')) === 'Matched: 75.00% (before: 75.00%)',
    'diff Matched gives both shares: ' + (await text(page, 'matched')));
  await clickFrame(page, gone);
  const z = (await framesOf(page)).find((f) => f.title.startsWith('gone ('));
  check(z.w === '1000.00', 'a frame that disappeared zooms too');
  await page.close();
}

(async () => {
  const t0 = Date.now();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-chromium-'));
  const errors = [];
  let ctx;
  try {
    // A fresh profile directory, nothing that talks to the network.
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath, headless: true, timeout: 60000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    ctx.setDefaultTimeout(15000);
    await testSmall(ctx, errors);
    await testRandom(ctx, errors);
    await testInverted(ctx, errors);
    await testDeep(ctx, errors);
    await testDiff(ctx, errors);
  } catch (e) {
    failures++;
    console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  } finally {
    if (ctx) await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  check(errors.length === 0, 'no script errors in the pages: ' + errors.join('; '));
  console.log(checks + ' checks in ' + ((Date.now() - t0) / 1000).toFixed(1) + ' s');
  if (failures) { console.error(failures + ' check(s) failed'); process.exit(1); }
  console.log('browser: all checks passed');
})();
