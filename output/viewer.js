// viewer.js - the flame graph viewer: the script of every SVG flameprof writes (svg.c
// embeds this file at build time; see viewer.h). This leading comment is not embedded.
//
// svg.c writes these constants before this text:
//   W      image width (px)           XPAD   left and right margin (px)
//   FH     frame height (px)          FONTW  average glyph width (px) for labels
//   INV    icicle graph (roots on top)
//   YTOP, YBOT  top of the first row (icicle) / bottom of the root row (flame graph)
//   DIFF   a differential graph       TOTAL  samples of the whole graph
// Each frame <g> under #frames carries data-s (first sample, counted from the left edge of
// the root) and data-n (its samples): zoom and the search share are exact sample
// arithmetic, never pixels. In a differential graph data-b and data-a are its samples
// before and after. class="agg" marks merged frames too narrow to draw one by one.
// The view is kept in the URL, so a link or a reload shows the same thing: ?x=S&y=D zooms
// on the frame at depth D starting at sample S, s=REGEX searches, i=1 ignores case.
// The text goes into a CDATA section: it must never contain "]]>".
// The heatmap page (heatmap.js) draws a new graph in place of the old one and calls init
// again; it sets NOURL, as the URL is its own.
var frames = [], details, matched, unzoombtn, searchbtn, icbtn, keyed = false;
var term = null, ignorecase = false, zoomed = null, root = null;
function init(evt) {
  frames = []; term = null; zoomed = null; root = null;
  details = document.getElementById('details').firstChild;
  matched = document.getElementById('matched');
  unzoombtn = document.getElementById('unzoom');
  searchbtn = document.getElementById('search');
  icbtn = document.getElementById('ignorecase');
  var box = document.getElementById('frames'), gs = box.getElementsByTagName('g');
  for (var i = 0; i < gs.length; i++) frames.push(new Frame(gs[i]));
  for (i = 0; i < frames.length; i++) if (frames[i].d === 0) root = frames[i];
  box.addEventListener('click', function (e) { var f = frame_of(e.target); if (f) zoom(f); });
  box.addEventListener('mouseover', function (e) {
    var f = frame_of(e.target); if (f) details.nodeValue = describe(f);
  });
  box.addEventListener('mouseout', function () { details.nodeValue = ' '; });
  unzoombtn.addEventListener('click', unzoom);
  searchbtn.addEventListener('click', function () { if (term === null) ask(); else reset_search(); });
  icbtn.addEventListener('click', toggle_case);
  if (!keyed) window.addEventListener('keydown', on_key);
  keyed = true;
  if (ignorecase) icbtn.classList.add('show');
  load_state();
  to_flames();
}
function share(part, total) { return (total ? 100 * part / total : 0).toFixed(2) + '%'; }
function commas(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
function Frame(g) {
  var r = g.getElementsByTagName('rect')[0], t = g.getElementsByTagName('text')[0];
  this.g = g; this.rect = r; this.text = t;
  this.title = g.getElementsByTagName('title')[0].textContent;
  this.s = Number(g.getAttribute('data-s'));
  this.n = Number(g.getAttribute('data-n'));
  this.agg = g.getAttribute('class') === 'agg';
  var y = Number(r.getAttribute('y'));
  this.d = Math.round(INV ? (y - YTOP) / FH : (YBOT - y) / FH);
  this.x0 = r.getAttribute('x'); this.w0 = r.getAttribute('width');
  this.tx0 = t.getAttribute('x'); this.label0 = t.textContent;
  this.fill = r.getAttribute('fill');
  /* the title is 'NAME (COUNT UNIT, ...)', COUNT being AFTER's samples in a
     differential graph; cut at the last such suffix */
  this.a = Number(g.getAttribute('data-a')); this.b = Number(g.getAttribute('data-b'));
  var cut = this.title.lastIndexOf(' (' + commas(DIFF ? this.a : this.n) + ' ');
  this.name = this.agg ? '' : cut >= 0 ? this.title.substring(0, cut) : this.title;
  /* the label: the name's short form (C++/Rust without templates, parameters) if given */
  this.lname = g.getAttribute('data-l') || this.name;
  g.fpframe = this;
}
/* The title, and when zoomed, the share of the zoomed frame's samples. */
function describe(f) {
  if (!zoomed || f.d < zoomed.d || !zoomed.n) return f.title;
  return f.title + ' [' + (100 * f.n / zoomed.n).toFixed(2) + '% of the zoomed frame]';
}
function frame_of(el) {
  for (; el && el.id !== 'frames'; el = el.parentNode) if (el.fpframe) return el.fpframe;
  return null;
}
function label(f, w) {
  var c = Math.floor((w - 3) / FONTW);
  if (f.agg || c < 3) return '';
  return f.lname.length <= c ? f.lname : f.lname.substring(0, c - 2) + '..';
}
function place(f, x, w) {
  f.rect.setAttribute('x', x.toFixed(2));
  f.rect.setAttribute('width', w.toFixed(2));
  f.text.setAttribute('x', (x + 3).toFixed(2));
  f.text.textContent = label(f, w);
}
function show(f, cls) {
  f.g.classList.toggle('hide', cls === 'hide');
  f.g.classList.toggle('parent', cls === 'parent');
}
/* Zoom: z spans the width, its ancestors stay (dimmed), everything else is hidden. */
function zoom(z) {
  if (z.d === 0) { unzoom(); return; }
  zoomed = z;
  var ze = z.s + z.n, full = W - 2 * XPAD, scale = full / z.n;
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i], fe = f.s + f.n;
    if (f.d < z.d && f.s <= z.s && fe >= ze) { place(f, XPAD, full); show(f, 'parent'); }
    else if (f.d >= z.d && f.s >= z.s && fe <= ze) {
      place(f, XPAD + (f.s - z.s) * scale, f.n * scale); show(f, '');
    } else show(f, 'hide');
  }
  unzoombtn.classList.remove('hide');
  save_state();
}
function unzoom() {
  zoomed = null;
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i];
    f.rect.setAttribute('x', f.x0); f.rect.setAttribute('width', f.w0);
    f.text.setAttribute('x', f.tx0); f.text.textContent = f.label0;
    show(f, '');
  }
  unzoombtn.classList.add('hide');
  save_state();
  to_flames();
}
/* Show where the flames are: a deep graph is taller than the window, and its widest
   frames are at the root: the bottom of a flame graph, the top of an icicle. Zoomed, the
   zoomed frame takes the root's place. Not in a page that holds the graph (NOURL). */
function to_flames() {
  if (!url_kept() || typeof window === 'undefined' || !window.scrollTo) return;
  var f = zoomed || root;
  if (!f) return;
  var r = f.rect.getBoundingClientRect();
  if (!zoomed) window.scrollTo(0, INV ? 0 : document.documentElement.scrollHeight);
  else window.scrollBy(0, INV ? r.top - 3 * FH : r.bottom + 3 * FH - window.innerHeight);
}
function ask() {
  var t = prompt('Search (regular expression' + (ignorecase ? ', ignoring case' : '') + ')',
                 term === null ? '' : term);
  if (t === null) return;
  if (t === '') reset_search(); else search(t);
}
function search(t) {
  var re;
  try { re = new RegExp(t, ignorecase ? 'i' : ''); }
  catch (e) { details.nodeValue = 'Invalid regular expression: ' + t; return; }
  term = t;
  var hits = [];
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i], hit = !f.agg && re.test(f.name);
    f.rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : f.fill);
    if (hit) hits.push(f);
  }
  /* Union of the matched sample ranges: a match nested in another one (recursion)
     adds nothing, so the share is exact and never above 100%. */
  hits.sort(function (a, b) { return a.s - b.s || b.n - a.n; });
  var sum = 0, end = 0, sa = 0, sb = 0;
  for (i = 0; i < hits.length; i++) {
    var s = hits[i].s, e = s + hits[i].n;
    /* frames nest or are disjoint: one that starts past the end is outermost */
    if (DIFF && s >= end) { sa += hits[i].a; sb += hits[i].b; }
    if (e > end) { sum += e - Math.max(s, end); end = e; }
  }
  searchbtn.classList.add('show');
  searchbtn.firstChild.nodeValue = 'Reset Search';
  matched.classList.remove('hide');
  /* a differential graph: shares of AFTER's and of BEFORE's samples */
  matched.firstChild.nodeValue = !DIFF ? 'Matched: ' + share(sum, TOTAL)
    : 'Matched: ' + share(sa, root.a) + ' (before: ' + share(sb, root.b) + ')';
  save_state();
}
function reset_search() {
  term = null;
  for (var i = 0; i < frames.length; i++) frames[i].rect.setAttribute('fill', frames[i].fill);
  searchbtn.classList.remove('show');
  searchbtn.firstChild.nodeValue = 'Search';
  matched.classList.add('hide');
  save_state();
}
function toggle_case() {
  ignorecase = !ignorecase;
  icbtn.classList.toggle('show', ignorecase);
  if (term !== null) search(term); else save_state();
}
function on_key(e) {
  var k = e.key ? e.key.toLowerCase() : '', mod = e.ctrlKey || e.metaKey;
  if (k === 'f3' || (mod && k === 'f')) { e.preventDefault(); ask(); }
  else if (mod && k === 'i') { e.preventDefault(); toggle_case(); }
  else if (k === 'escape') { if (term !== null) reset_search(); else unzoom(); }
}
/* The URL keeps the view; where there is no history API (a viewer without one, a file
   a browser refuses to rewrite the URL of) the view simply is not kept. */
function url_kept() { return typeof NOURL === 'undefined' || !NOURL; }
function save_state() {
  if (!url_kept() || typeof history === 'undefined' || typeof location === 'undefined' ||
      !history.replaceState) return;
  var q = [];
  if (zoomed) q.push('x=' + zoomed.s, 'y=' + zoomed.d);
  if (term !== null) q.push('s=' + encodeURIComponent(term));
  if (ignorecase) q.push('i=1');
  var url = location.pathname + (q.length ? '?' + q.join('&') : '') + location.hash;
  try { history.replaceState(null, '', url); } catch (e) { }
}
function load_state() {
  if (!url_kept() || typeof location === 'undefined' || !location.search) return;
  var p = {}, kv = location.search.substring(1).split('&');
  for (var i = 0; i < kv.length; i++) {
    var eq = kv[i].indexOf('='); if (eq < 0) continue;
    try { p[kv[i].substring(0, eq)] = decodeURIComponent(kv[i].substring(eq + 1).replace(/\+/g, ' ')); }
    catch (e) { }
  }
  if (p.i === '1') { ignorecase = true; icbtn.classList.add('show'); }
  if (p.x !== undefined && p.y !== undefined) {
    var x = Number(p.x), y = Number(p.y);
    for (i = 0; i < frames.length; i++)
      if (frames[i].s === x && frames[i].d === y) { zoom(frames[i]); break; }
  }
  if (p.s) search(p.s);
}
