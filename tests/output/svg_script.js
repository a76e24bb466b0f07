// svg_script.js - runs the SVG's own script in node against a minimal DOM built from the
// SVG, and drives it like a user: hover, click to zoom, reset, regex search with and
// without case, Ctrl-F / Ctrl-I / Escape.
//
// Usage: node svg_script.js FLAMEPROF        (exit 0: all checks passed)
'use strict';
const { execFileSync } = require('child_process');

let failures = 0;
function check(cond, what) {
  if (!cond) { failures++; console.error('FAIL: ' + what); }
}

// ---- a DOM just big enough for the script ---------------------------------------------
class Node {
  constructor(tag, attrs, text) {
    this.tagName = tag; this.attrs = Object.assign({}, attrs); this.children = [];
    this.parentNode = null; this.listeners = {};
    this.id = this.attrs.id || '';
    const self = this;
    this.firstChild = { get nodeValue() { return self.text; }, set nodeValue(v) { self.text = v; } };
    this.text = text;
    this.classList = {
      set() { return new Set((self.attrs['class'] || '').split(' ').filter(Boolean)); },
      save(s) { self.attrs['class'] = Array.from(s).join(' '); },
      contains(c) { return this.set().has(c); },
      add(c) { const s = this.set(); s.add(c); this.save(s); },
      remove(c) { const s = this.set(); s.delete(c); this.save(s); },
      toggle(c, on) {
        const s = this.set(); if (on === undefined) on = !s.has(c);
        if (on) s.add(c); else s.delete(c); this.save(s); return on;
      },
    };
  }
  get textContent() { return this.text; }
  set textContent(v) { this.text = v; }
  getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  append(child) { child.parentNode = this; this.children.push(child); return child; }
  getElementsByTagName(tag) {
    const out = [];
    const walk = (n) => { for (const c of n.children) { if (c.tagName === tag) out.push(c); walk(c); } };
    walk(this);
    return out;
  }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  fire(type, ev) {
    ev = Object.assign({ target: this, preventDefault() { ev.prevented = true; } }, ev || {});
    for (let n = this; n; n = n.parentNode)
      for (const fn of n.listeners[type] || []) fn(ev);
    return ev;
  }
}

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const attrsOf = (s) => {
  const a = {}; const re = /([\w-]+)="([^"]*)"/g; let m;
  while ((m = re.exec(s))) a[m[1]] = unescape(m[2]);
  return a;
};

// search: the query string the page is opened with (its state), e.g. '?x=0&y=2'.
function load(svg, search) {
  const root = new Node('svg', {});
  const byId = {};
  const textRe = /^<text ([^>]*)>([^<]*)<\/text>$/gm;
  let m;
  while ((m = textRe.exec(svg))) {
    const t = root.append(new Node('text', attrsOf(m[1]), unescape(m[2])));
    if (t.id) byId[t.id] = t;
  }
  const box = byId.frames = root.append(new Node('g', { id: 'frames' }));
  const gRe = /^<g ([^>]*)><title>([^<]*)<\/title><rect ([^>]*)\/><text ([^>]*)>([^<]*)<\/text><\/g>$/gm;
  while ((m = gRe.exec(svg))) {
    const g = box.append(new Node('g', attrsOf(m[1])));
    g.append(new Node('title', {}, unescape(m[2])));
    g.append(new Node('rect', attrsOf(m[3])));
    g.append(new Node('text', attrsOf(m[4]), unescape(m[5])));
  }
  const script = svg.split('<![CDATA[')[1].split(']]>')[0];
  const window = new Node('window', {});
  const env = { prompts: [], answer: null };
  const document = { getElementById: (id) => byId[id] || null };
  const prompt = (msg, def) => { env.prompts.push([msg, def]); return env.answer; };
  const location = env.location = { pathname: '/p/x.svg', search: search || '', hash: '' };
  const history = {
    replaceState(state, title, url) {
      const q = url.indexOf('?');
      location.search = q < 0 ? '' : url.substring(q);
      env.urls.push(url);
    },
  };
  env.urls = [];
  const api = new Function('document', 'window', 'prompt', 'location', 'history',
    script + '\nreturn { init, zoom, unzoom, search, reset_search, frames: () => frames };');
  env.api = api(document, window, prompt, location, history);
  env.api.init({});
  env.byId = byId; env.window = window;
  env.frame = (title) => env.api.frames().find((f) => f.title.startsWith(title + ' ('));
  env.matched = () => (byId.matched.classList.contains('hide') ? null : byId.matched.text);
  return env;
}

// ---- the scenario -----------------------------------------------------------------------
const profile = 'main;a;a;a 10\nmain;a;b 5\nmain;c 5\nother;a 20\n';
const svg = execFileSync(process.argv[2], ['svg', '--width', '1020'], { input: profile }).toString();
const env = load(svg);
const fr = env.api.frames();
check(fr.length === 9, 'nine frames parsed (' + fr.length + ')');

// Hover shows the frame's title in the status line.
const mainA = fr.find((f) => f.title.startsWith('a (15 '));
mainA.rect.fire('mouseover');
check(env.byId.details.text === 'a (15 samples, 37.50%)', 'hover: ' + env.byId.details.text);
mainA.rect.fire('mouseout');
check(env.byId.details.text === ' ', 'mouseout clears the status line');

// Search: the recursive a;a;a counts once inside main;a, plus other;a: (15 + 20) / 40.
env.api.search('^a$');
check(env.matched() === 'Matched: 87.50%', 'search ^a$: ' + env.matched());
check(mainA.rect.getAttribute('fill') === 'rgb(230,0,230)', 'matches are highlighted');
check(env.frame('main').rect.getAttribute('fill') !== 'rgb(230,0,230)', 'others are not');
env.api.search('b|c');
check(env.matched() === 'Matched: 25.00%', 'search b|c: ' + env.matched());
env.api.search('^A$');
check(env.matched() === 'Matched: 0.00%', 'case-sensitive by default: ' + env.matched());
env.window.fire('keydown', { key: 'i', ctrlKey: true });
check(env.matched() === 'Matched: 87.50%', 'Ctrl-I ignores case: ' + env.matched());
env.window.fire('keydown', { key: 'i', ctrlKey: true });
env.api.search('(');
check(/Invalid regular expression/.test(env.byId.details.text), 'a bad regex is reported');
env.window.fire('keydown', { key: 'Escape' });
check(env.matched() === null, 'Escape resets the search');
check(mainA.rect.getAttribute('fill') === mainA.fill, 'and restores colours');
env.answer = 'other';
const ev = env.window.fire('keydown', { key: 'f', ctrlKey: true });
check(ev.prevented && env.prompts.length === 1, 'Ctrl-F opens the search prompt');
check(env.matched() === 'Matched: 50.00%', 'prompted search runs: ' + env.matched());
env.byId.search.fire('click');
check(env.matched() === null, 'clicking "Reset Search" resets');

// Zoom on main;a: full width, ancestors kept and dimmed, the rest hidden.
const x0 = fr.map((f) => f.rect.getAttribute('x') + '/' + f.rect.getAttribute('width'));
mainA.rect.fire('click');
check(mainA.rect.getAttribute('x') === '10.00' && mainA.rect.getAttribute('width') === '1000.00',
  'zoomed frame spans the width: ' + mainA.rect.getAttribute('width'));
const main = env.frame('main'), all = env.frame('all'), other = env.frame('other');
check(main.g.classList.contains('parent') && all.g.classList.contains('parent'), 'ancestors kept');
check(main.rect.getAttribute('width') === '1000.00', 'ancestors span the width');
check(other.g.classList.contains('hide') && env.frame('c').g.classList.contains('hide'),
  'unrelated frames hidden');
const b = env.frame('b');
check(!b.g.classList.contains('hide') && b.rect.getAttribute('x') === '676.67' &&
  b.rect.getAttribute('width') === '333.33', 'children rescaled: ' + b.rect.getAttribute('x'));
check(!env.byId.unzoom.classList.contains('hide'), 'Reset Zoom shown');
env.byId.unzoom.fire('click');
const x1 = fr.map((f) => f.rect.getAttribute('x') + '/' + f.rect.getAttribute('width'));
check(JSON.stringify(x0) === JSON.stringify(x1), 'Reset Zoom restores every frame');
check(!fr.some((f) => f.g.classList.contains('hide') || f.g.classList.contains('parent')),
  'nothing stays hidden or dimmed');
check(env.byId.unzoom.classList.contains('hide'), 'Reset Zoom hidden again');

// The view in the URL: zoom and search written there, and read back on load.
const st = load(svg);
st.api.zoom(st.frame('other'));
check(st.location.search === '?x=20&y=1', 'zoom in the URL: ' + st.location.search);
st.api.search('b|c');
check(st.location.search === '?x=20&y=1&s=b%7Cc', 'search in the URL: ' + st.location.search);
st.window.fire('keydown', { key: 'i', ctrlKey: true });
check(st.location.search === '?x=20&y=1&s=b%7Cc&i=1', 'ignore case in the URL: ' + st.location.search);
check(st.urls.every((u) => u.startsWith('/p/x.svg')), 'the path is kept: ' + st.urls);
const re = load(svg, st.location.search);
check(re.frame('other').rect.getAttribute('width') === '1000.00' &&
  re.frame('main').g.classList.contains('hide'), 'reload zooms on other');
check(re.matched() === 'Matched: 25.00%', 'reload searches (ignoring case): ' + re.matched());
st.api.unzoom();
st.api.reset_search();
check(st.location.search === '?i=1', 'unzoom and reset clear their part: ' + st.location.search);
for (const junk of ['?x=1&y=99', '?x=abc&y=&s=%E0%A4%A', '?s=(', '?zzz&&=']) {
  const j = load(svg, junk);
  check(!j.api.frames().some((f) => f.g.classList.contains('hide')), 'junk ' + junk + ': no zoom');
}
check(/Invalid regular expression/.test(load(svg, '?s=(').byId.details.text), 'bad regex in URL reported');

// A differential graph: tooltips name both profiles; Matched gives both shares.
const before = require('fs').mkdtempSync(require('os').tmpdir() + '/fp-svg-script-') + '/b.folded';
require('fs').writeFileSync(before, 'main;a 10\nmain;b 10\nmain;gone 20\n');
const dsvg = execFileSync(process.argv[2], ['diff', '--width', '1020', before, '-'],
  { input: 'main;a 30\nmain;b 10\n' }).toString();
require('fs').rmSync(require('path').dirname(before), { recursive: true });
const d = load(dsvg);
const da = d.frame('a');
check(da && da.name === 'a', 'diff frame names are cut from the title: ' + (da && da.name));
da.rect.fire('mouseover');
check(d.byId.details.text === 'a (30 samples, 75.00%; before 10 samples, 25.00%; +50.00%)',
  'diff hover: ' + d.byId.details.text);
d.api.search('^(a|gone|main)$');
check(d.matched() === 'Matched: 100.00% (before: 100.00%)', 'nested matches once: ' + d.matched());
d.api.search('^gone$');
check(d.matched() === 'Matched: 0.00% (before: 50.00%)', 'diff Matched: ' + d.matched());
d.api.zoom(da);
da.rect.fire('mouseover');
check(/\[100\.00% of the zoomed frame\]$/.test(d.byId.details.text), 'zoomed share: ' + d.byId.details.text);

if (failures) { console.error(failures + ' check(s) failed'); process.exit(1); }
console.log('svg_script: all checks passed');
