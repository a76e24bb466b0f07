// heatmap.js - the heatmap page's script (heatmap.c embeds this file at build time, after
// viewer.js; see heatmap.h). This leading comment is not embedded.
//
// The data (the JSON in #fpdata): F frame names, C their colours (0xRRGGBB, the SVG's
// palette), N the stack tree as (parent + 1, frame) pairs, S the tree node of each stack id
// (-1: none), first/end the slots it covers (20 ms each, from the profile's start), T the
// slots as base64 varints: per slot the number of stacks, then (id delta, weight) pairs.
// A selected range is drawn as an SVG built here, in the shape svg.c writes, and handed to
// viewer.js's init(): zoom, search and Matched % are the SVG's own.
var W = 1200, XPAD = 10, FH = 16, FONTW = 7.08, INV = false, YTOP = 36, YBOT = 0;
var DIFF = false, TOTAL = 0, NOURL = true;
var HM = null;
function hm_decode(d) {
  var bin = atob(d.T), n = bin.length, pos = 0, cap = (n >> 1) + 1;
  var nslots = Math.max(0, d.end - d.first), off = new Int32Array(nslots + 1);
  var ids = new Int32Array(cap), ws = new Float64Array(cap), tot = new Float64Array(nslots);
  var len = 0, b, v, mul;
  for (var s = 0; s < nslots; s++) {
    off[s] = len;
    v = 0; mul = 1; // varints, inline: this loop reads every cell of an hour-long run
    do { b = bin.charCodeAt(pos++); v += (b & 127) * mul; mul *= 128; } while (b & 128);
    for (var k = v, id = 0, t = 0; k > 0; k--) {
      v = 0; mul = 1;
      do { b = bin.charCodeAt(pos++); v += (b & 127) * mul; mul *= 128; } while (b & 128);
      id += v;
      v = 0; mul = 1;
      do { b = bin.charCodeAt(pos++); v += (b & 127) * mul; mul *= 128; } while (b & 128);
      ids[len] = id; ws[len++] = v; t += v;
    }
    tot[s] = t;
  }
  off[nslots] = len;
  var nn = d.N.length / 2, parent = new Int32Array(nn), frame = new Int32Array(nn);
  for (var i = 0; i < nn; i++) { parent[i] = d.N[2 * i] - 1; frame[i] = d.N[2 * i + 1]; }
  return { d: d, first: d.first, end: d.end, off: off, ids: ids, ws: ws, tot: tot,
           parent: parent, frame: frame };
}
// ---- the heatmap ----
var CW = 4, CH = 8, ROWS = 50, SEC0 = 0, COLS = 1, anchor = -1, cursor = -1;
var selA = null, selB = null, comparing = false;
function hm_init() {
  var t0 = performance.now();
  var d = JSON.parse(document.getElementById('fpdata').textContent);
  HM = hm_decode(d);
  document.getElementById('hm-title').textContent = 'Heatmap: ' + d.title;
  document.title = 'Heatmap: ' + d.title;
  SEC0 = Math.floor(HM.first / ROWS);
  COLS = Math.max(1, Math.ceil(HM.end / ROWS) - SEC0);
  CW = Math.max(2, Math.min(16, Math.floor(1180 / COLS)));
  var c = document.getElementById('hm-canvas');
  c.width = COLS * CW; c.height = ROWS * CH;
  document.body.setAttribute('data-columns', COLS);
  var total = 0;
  for (var i = 0; i < HM.tot.length; i++) total += HM.tot[i];
  document.getElementById('hm-info').textContent = COLS + ' s' +
    (HM.first ? ' (the first ' + SEC0 + ' s were dropped)' : '') + ', ' + commas(total) +
    ' samples at ' + d.freq + ' Hz' +
    (d.start_ms ? ', began ' + new Date(d.start_ms).toISOString() : '');
  draw();
  c.addEventListener('mousedown', function (e) { anchor = cursor = slot_at(e); draw(); });
  c.addEventListener('mousemove', function (e) {
    var s = slot_at(e); status_of(s);
    if (anchor >= 0 && (e.buttons & 1) && s !== cursor) { cursor = s; draw(); }
  });
  c.addEventListener('mouseup', function (e) {
    if (anchor < 0) return;
    var s = slot_at(e), a = anchor;
    anchor = -1;
    if (s === a) { // a click: the range ends at the next click
      if (pending < 0) { pending = anchor = cursor = s; draw(); return; }
      a = pending;
    }
    pending = -1;
    choose(Math.min(a, s), Math.max(a, s));
  });
  document.getElementById('hm-compare').addEventListener('click', function () {
    comparing = !comparing && selA !== null;
    this.classList.toggle('on', comparing);
    document.getElementById('hm-sel').textContent = comparing
      ? 'Select the range to compare with ' + range_text(selA) : range_text(selA);
  });
  document.getElementById('hm-whole').addEventListener('click', function () {
    choose(HM.first, Math.max(HM.first, HM.end - 1));
  });
  document.body.setAttribute('data-load-ms', (performance.now() - t0).toFixed(1));
}
var pending = -1; // a first click waiting for the second one
function slot_at(e) {
  var r = e.target.getBoundingClientRect();
  var col = Math.floor((e.clientX - r.left) / CW), row = Math.floor((e.clientY - r.top) / CH);
  col = Math.max(0, Math.min(COLS - 1, col)); row = Math.max(0, Math.min(ROWS - 1, row));
  return (SEC0 + col) * ROWS + row;
}
function status_of(s) {
  var k = s - HM.first, v = k >= 0 && k < HM.tot.length ? HM.tot[k] : 0;
  document.getElementById('hm-status').textContent = 'second ' + Math.floor(s / ROWS) +
    ', +' + (s % ROWS) * 20 + ' ms: ' + commas(v) + ' samples';
}
function in_sel(s, sel) { return sel && s >= sel[0] && s <= sel[1]; }
// The cells as pixels: one pixel per cell in a COLS x ROWS image, scaled up to CW x CH
// cells by the canvas without smoothing (an hour is 180,000 cells: one word each).
function draw() {
  var c = document.getElementById('hm-canvas'), g = c.getContext('2d');
  var small = document.createElement('canvas'), sg;
  small.width = COLS; small.height = ROWS; sg = small.getContext('2d');
  var img = sg.createImageData(COLS, ROWS), px = new Uint32Array(img.data.buffer);
  var max = 0, i, lo = Math.min(anchor, cursor), hi = Math.max(anchor, cursor);
  for (i = 0; i < HM.tot.length; i++) if (HM.tot[i] > max) max = HM.tot[i];
  var le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  function word(r, g, b) {
    return le ? (255 << 24 | b << 16 | g << 8 | r) >>> 0 : (r << 24 | g << 16 | b << 8 | 255) >>> 0;
  }
  var empty = word(248, 248, 248);
  for (var col = 0; col < COLS; col++)
    for (var row = 0; row < ROWS; row++) {
      var s = (SEC0 + col) * ROWS + row, k = s - HM.first;
      var v = k >= 0 && k < HM.tot.length ? HM.tot[k] : 0, t = max ? v / max : 0;
      var r = v ? 255 : 248, gr = v ? Math.round(235 - 200 * t) : 248;
      var bl = v ? Math.round(225 - 225 * t) : 248, w;
      if ((anchor >= 0 && s >= lo && s <= hi) || in_sel(s, selB) || (!selB && in_sel(s, selA)))
        w = word(Math.round(r * 0.45), Math.round(gr * 0.6), 255);
      else if (selB && in_sel(s, selA)) w = word(Math.round(r * 0.5), 200, Math.round(bl * 0.5));
      else w = v ? word(r, gr, bl) : empty;
      px[row * COLS + col] = w;
    }
  sg.putImageData(img, 0, 0);
  g.imageSmoothingEnabled = false;
  g.clearRect(0, 0, c.width, c.height);
  g.drawImage(small, 0, 0, COLS * CW, ROWS * CH);
  if (CW > 3 && CH > 3) { // a white grid between cells where they are big enough
    g.fillStyle = '#fff';
    for (col = 1; col < COLS; col++) g.fillRect(col * CW - 1, 0, 1, c.height);
    for (row = 1; row < ROWS; row++) g.fillRect(0, row * CH - 1, c.width, 1);
  }
}
function range_text(sel) {
  if (!sel) return '';
  return (sel[0] * 0.02).toFixed(2) + ' s to ' + ((sel[1] + 1) * 0.02).toFixed(2) + ' s';
}
// Select slots [a, b] (both included): its flame graph, or with "compare" on, the
// differential graph from the first range (before) to this one (after).
function choose(a, b) {
  if (comparing && selA) { selB = [a, b]; comparing = false;
    document.getElementById('hm-compare').classList.remove('on'); }
  else { selA = [a, b]; selB = null; }
  draw();
  var t = selB ? 'Before: ' + range_text(selA) + ', after: ' + range_text(selB)
               : 'Selected: ' + range_text(selA);
  document.getElementById('hm-sel').textContent = t;
  render(selA, selB);
}
// ---- the flame graph of a range ----
function stack_weights(sel) {
  var w = new Float64Array(HM.d.S.length);
  if (!sel) return w;
  var a = Math.max(sel[0], HM.first) - HM.first, b = Math.min(sel[1] + 1, HM.end) - HM.first;
  for (var k = a; k < b; k++)
    for (var i = HM.off[k]; i < HM.off[k + 1]; i++) w[HM.ids[i]] += HM.ws[i];
  return w;
}
// Per tree node: its own samples (as the leaf of a stack) in the range.
function node_self(w) {
  var self = new Float64Array(HM.parent.length);
  for (var id = 0; id < w.length; id++) if (w[id] && HM.d.S[id] >= 0) self[HM.d.S[id]] += w[id];
  return self;
}
function sum(v) { var t = 0; for (var i = 0; i < v.length; i++) t += v[i]; return t; }
function render(rangeA, rangeB) {
  var after = node_self(stack_weights(rangeB || rangeA));
  var before = rangeB ? node_self(stack_weights(rangeA)) : null;
  var ta = sum(after), tb = before ? sum(before) : 0, nn = after.length;
  // widths: AFTER's samples, plus BEFORE's (scaled to AFTER's total) where AFTER has none
  var n = new Float64Array(nn), na = new Float64Array(nn), nb = new Float64Array(nn);
  for (var i = 0; i < nn; i++) {
    n[i] = after[i] || (before && before[i] && ta && tb ? Math.round(before[i] * ta / tb) : 0);
    na[i] = after[i]; nb[i] = before ? before[i] : 0;
  }
  var kids = [], top = [];
  for (i = nn - 1; i >= 0; i--) { // children come after their parents in N: sum upwards
    var p = HM.parent[i];
    if (p >= 0) { n[p] += n[i]; na[p] += na[i]; nb[p] += nb[i]; }
  }
  for (i = 0; i < nn; i++) {
    if (!n[i] && !nb[i]) continue;
    p = HM.parent[i];
    if (p < 0) top.push(i); else (kids[p] = kids[p] || []).push(i);
  }
  var root = { name: 'all', n: 0, a: ta, b: tb, kids: top };
  for (i = 0; i < top.length; i++) root.n += n[top[i]];
  draw_graph(root, kids, n, na, nb, !!rangeB);
}
function by_name(x, y) {
  var a = HM.d.F[HM.frame[x]], b = HM.d.F[HM.frame[y]];
  return a < b ? -1 : a > b ? 1 : 0;
}
function esc(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
          .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
function pct(part, total) { return (total ? 100 * part / total : 0).toFixed(2) + '%'; }
function draw_graph(root, kids, n, na, nb, diff) {
  DIFF = diff; TOTAL = root.n;
  var items = [], maxd = 0, full = W - 2 * XPAD, scale = TOTAL ? full / TOTAL : 0;
  var minn = TOTAL * 0.1 / full;
  // children left to right by name, each at its parent's start plus its earlier siblings
  function place(list, start, depth) {
    list.sort(by_name);
    for (var i = 0; i < list.length; ) {
      var x = list[i];
      if (n[x] >= minn) {
        items.push({ node: x, s: start, n: n[x], d: depth });
        if (depth > maxd) maxd = depth;
        if (kids[x]) place(kids[x], start, depth + 1);
        start += n[x]; i++; continue;
      }
      var j = i, cnt = 0, a = 0, b = 0; // a run of narrow siblings: one item
      for (; j < list.length && n[list[j]] < minn; j++) { cnt += n[list[j]]; a += na[list[j]]; b += nb[list[j]]; }
      if (cnt > 0) {
        items.push(j - i === 1 ? { node: x, s: start, n: cnt, d: depth }
                               : { node: -1, s: start, n: cnt, d: depth, small: j - i, a: a, b: b });
        if (depth > maxd) maxd = depth;
      }
      start += cnt; i = j;
    }
  }
  if (root.kids.length) place(root.kids, 0, 1);
  var height = (maxd + 1) * FH + YTOP + 34;
  YBOT = height - 34 - FH;
  var maxdelta = 0;
  function delta(a, b) { return (TOTAL && root.a ? 100 * a / root.a : 0) - (root.b ? 100 * b / root.b : 0); }
  if (diff) for (var i = 0; i < items.length; i++) {
    var it = items[i], v = Math.abs(it.node >= 0 ? delta(na[it.node], nb[it.node]) : delta(it.a, it.b));
    if (v > maxdelta) maxdelta = v;
  }
  var out = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + W + '" height="' + height +
    '" viewBox="0 0 ' + W + ' ' + height + '"><rect x="0" y="0" width="' + W + '" height="' +
    height + '" fill="#f4f4e8"/><text id="title" x="' + W / 2 + '" y="24">' +
    (diff ? 'Differential Flame Graph' : 'Flame Graph') + '</text>' +
    '<text id="details" x="10" y="' + (height - 10) + '"> </text>' +
    '<text id="unzoom" class="hide" x="10" y="24">Reset Zoom</text>' +
    '<text id="search" x="' + (W - XPAD - 24) + '" y="24">Search</text>' +
    '<text id="ignorecase" x="' + (W - XPAD) + '" y="24">ic</text>' +
    '<text id="matched" class="hide" x="' + (W - XPAD) + '" y="' + (height - 10) + '"> </text>' +
    '<g id="frames">'];
  items.push({ node: -2, s: 0, n: TOTAL, d: 0 });
  for (i = 0; i < items.length; i++) {
    it = items[i];
    var name = it.node >= 0 ? HM.d.F[HM.frame[it.node]] : it.node === -2 ? 'all' : '';
    var a = it.node >= 0 ? na[it.node] : it.node === -2 ? root.a : it.a;
    var b = it.node >= 0 ? nb[it.node] : it.node === -2 ? root.b : it.b;
    var x = XPAD + it.s * scale, w = it.n * scale, y = YBOT - it.d * FH, fill, title;
    var shown = it.node === -1 ? it.small + ' small frames' : name;
    if (diff) {
      var dv = delta(a, b), sign = Math.sign(a * root.b - b * root.a);
      var pale = 220 - Math.round((maxdelta ? Math.abs(dv) / maxdelta : 0) * 220);
      fill = sign > 0 ? 'rgb(255,' + pale + ',' + pale + ')' : sign < 0
        ? 'rgb(' + pale + ',' + pale + ',255)' : 'rgb(220,220,220)';
      title = shown + ' (' + commas(a) + ' samples, ' + pct(a, root.a) + '; before ' +
        commas(b) + ' samples, ' + pct(b, root.b) + '; ' + (dv < 0 ? '-' : '+') +
        Math.abs(dv).toFixed(2) + '%)';
    } else {
      var col = it.node >= 0 ? HM.d.C[HM.frame[it.node]] : it.node === -2 ? 0xdc6b0f : 0xbebebe;
      fill = 'rgb(' + (col >> 16) + ',' + ((col >> 8) & 255) + ',' + (col & 255) + ')';
      title = shown + ' (' + commas(it.n) + ' samples, ' + pct(it.n, TOTAL) + ')';
    }
    var f = { name: name, agg: it.node === -1 }, lab = label(f, w);
    out.push('<g' + (it.node === -1 ? ' class="agg"' : '') + ' data-s="' + it.s + '" data-n="' +
      it.n + '"' + (diff ? ' data-b="' + b + '" data-a="' + a + '"' : '') + '><title>' +
      esc(title) + '</title><rect x="' + x.toFixed(2) + '" y="' + y + '" width="' +
      w.toFixed(2) + '" height="' + (FH - 1) + '" fill="' + fill + '"/><text x="' +
      (x + 3).toFixed(2) + '" y="' + (y + 10.5) + '">' + esc(lab) + '</text></g>');
  }
  out.push('</g></svg>');
  var box = document.getElementById('hm-graph');
  box.innerHTML = out.join('');
  init();
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', hm_init);
else hm_init();
