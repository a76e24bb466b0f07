// heatmap_test.js - the heatmap page in a real browser: headless Chromium driven by
// playwright-core, with real mouse drags, clicks, key presses and prompt dialogs.
//
// Usage: node heatmap_test.js DIR CHROMIUM
//   DIR holds what run_heatmap.py wrote: run.heatmap.html (a run of 1.5 s of phase_a then
//   1.5 s of phase_b), run.range.folded (`report --from 0.5 --to 1.5` of that run),
//   hour.html (an hour of synthetic timeline) and expect.json. Exit 0: all checks passed.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [dir, chromiumPath] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(path.join(dir, 'expect.json'), 'utf8'));
let failures = 0, checks = 0;
function check(cond, what) {
  checks++;
  if (!cond) failures++;
  console.log((cond ? 'ok     ' : 'FAILED ') + what);
}
const url = (name) => 'file://' + path.join(dir, name);

// name -> samples over every frame of that name, from folded stacks (no recursion here)
function folded_names(file) {
  const out = {};
  for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
    const m = /^(.*) (\d+)$/.exec(line);
    if (!m) continue;
    for (const f of m[1].split(';')) out[f] = (out[f] || 0) + Number(m[2]);
    out.all = (out.all || 0) + Number(m[2]);
  }
  return out;
}
// the same from the page's flame graph: every drawn frame's name and data-n
const page_names = (page) => page.evaluate(() => {
  const out = {};
  for (const g of document.querySelectorAll('#frames > g')) {
    if (g.classList.contains('agg')) continue;
    const f = g.fpframe;
    out[f.name] = (out[f.name] || 0) + f.n;
  }
  return out;
});
const frame_box = (page, name) => page.evaluate((name) => {
  for (const g of document.querySelectorAll('#frames > g'))
    if (g.fpframe && g.fpframe.name === name && getComputedStyle(g).display !== 'none') {
      const b = g.querySelector('rect').getBoundingClientRect();
      return { x: b.x + b.width / 2, y: b.y + b.height / 2, w: b.width };
    }
  return null;
}, name);
// the centre of a heatmap cell, in page coordinates
const cell = (page, slot) => page.evaluate((slot) => {
  const b = document.getElementById('hm-canvas').getBoundingClientRect();
  const col = Math.floor(slot / ROWS) - SEC0, row = slot % ROWS;
  return { x: b.x + col * CW + CW / 2, y: b.y + row * CH + CH / 2 };
}, slot);

async function test_run(browser) {
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url('run.heatmap.html'));
  const cols = Number(await page.getAttribute('body', 'data-columns'));
  check(cols === expect.columns, `a column per second of the run: ${cols}, want ${expect.columns}`);
  // drag from the first cell of the range to its last one, with the mouse
  const [a, b] = expect.range;
  const p0 = await cell(page, a), p1 = await cell(page, b);
  await page.mouse.move(p0.x, p0.y);
  await page.mouse.down();
  await page.mouse.move((p0.x + p1.x) / 2, (p0.y + p1.y) / 2, { steps: 4 });
  await page.mouse.move(p1.x, p1.y, { steps: 4 });
  await page.mouse.up();
  const sel = await page.textContent('#hm-sel');
  check(sel === 'Selected: 0.50 s to 1.50 s', `the drag selected slots ${a}..${b}: '${sel}'`);
  const want = folded_names('run.range.folded'), got = await page_names(page);
  const diffs = Object.keys(Object.assign({}, want, got)).filter((k) => want[k] !== got[k]);
  check(want.all > 0 && diffs.length === 0,
        `the selection's flame graph is report --from 0.5 --to 1.5's (all: ${got.all} vs ` +
        `${want.all}; differing: ${diffs.slice(0, 5).map((k) => k + ' ' + got[k] + '/' + want[k])})`);
  // zoom: click phase_a, it spans the width; Escape restores
  let box = await frame_box(page, 'thread_main');
  check(box !== null, 'thread_main is drawn');
  if (box) {
    await page.mouse.click(box.x, box.y);
    const z = await frame_box(page, 'thread_main');
    check(z && z.w > 1100, `a click zooms thread_main to the full width (${z && z.w.toFixed(0)} px)`);
    const hidden = await frame_box(page, 'main');
    check(hidden === null, 'zoomed: the main thread\'s frames are hidden');
    await page.keyboard.press('Escape');
    const back = await frame_box(page, 'thread_main');
    check(back && Math.abs(back.w - box.w) < 0.5, 'Escape restores the width');
  }
  // search with Ctrl-F and a prompt: Matched is the second thread's share of the range
  page.once('dialog', (d) => d.accept('^thread_main$'));
  await page.keyboard.press('Control+f');
  await page.waitForTimeout(200);
  const matched = await page.textContent('#matched');
  const share = (100 * (want.thread_main || 0) / want.all).toFixed(2) + '%';
  check(matched === 'Matched: ' + share, `search: '${matched}', want 'Matched: ${share}'`);
  const magenta = await page.evaluate(() => Array.from(document.querySelectorAll('#frames rect'))
    .filter((r) => r.getAttribute('fill') === 'rgb(230,0,230)').length);
  check(magenta >= 1, `the matching frames are highlighted (${magenta})`);
  // compare: the first range (phase a) before, a range in phase b after
  await page.click('#hm-compare');
  await page.evaluate(() => choose(100, 124));
  const diff = await page.evaluate(() => ({ diff: DIFF, title: document.getElementById('title').textContent,
    b: document.querySelectorAll('#frames > g[data-b]').length }));
  check(diff.diff && diff.title === 'Differential Flame Graph' && diff.b > 0,
        `compare draws a differential graph (${JSON.stringify(diff)})`);
  const pa = await page.evaluate(() => { for (const g of document.querySelectorAll('#frames > g'))
    if (g.fpframe.name === 'phase_a') return g.querySelector('rect').getAttribute('fill'); });
  check(/^rgb\(\d+,\d+,255\)$/.test(pa || ''), `phase_a, gone after, is blue (${pa})`);
  check(errors.length === 0, 'no script errors: ' + errors.join('; '));
  await page.close();
}

async function test_hour(browser) {
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  const t0 = Date.now();
  await page.goto(url('hour.html'));
  const wall = Date.now() - t0;
  const init = Number(await page.getAttribute('body', 'data-load-ms'));
  const cols = Number(await page.getAttribute('body', 'data-columns'));
  const size = fs.statSync(path.join(dir, 'hour.html')).size;
  console.log(`hour-long heatmap: ${(size / 1e6).toFixed(1)} MB, script ready in ${init} ms, ` +
              `page loaded in ${wall} ms`);
  check(cols === expect.hour_columns, `an hour: ${cols} columns`);
  // a bound for usability, not a benchmark: generous for a loaded CI machine
  check(init < 5000, `the hour's heatmap is drawn in ${init} ms (< 5 s)`);
  const t1 = Date.now();
  await page.evaluate(() => choose(50 * 1800, 50 * 1860 - 1));
  const frames = await page.evaluate(() => document.querySelectorAll('#frames > g').length);
  console.log(`a minute of it as a flame graph: ${frames} frames in ${Date.now() - t1} ms`);
  check(frames > 100, 'a minute of the hour opens as a flame graph');
  await page.close();
}

(async () => {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    await test_run(browser);
    await test_hour(browser);
  } finally {
    await browser.close();
  }
  console.log(`${checks - failures}/${checks} checks passed`);
  process.exit(failures ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
