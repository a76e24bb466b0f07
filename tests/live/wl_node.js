'use strict';
// A node service's work for live.py's filter test: parse, transform and serialize requests
// for SECONDS (argv[2]), so the profile holds JS functions under node's and V8's runtime
// frames (uv_, node::, v8::internal::, Builtins_) that a reader wants hidden.
function parseRequest(i) { return JSON.parse(`{"id":${i},"items":[1,2,3,"x${i}"],"q":"a=b&c=d"}`); }
function transform(r) { return r.items.map((x) => String(x).replace(/[0-9]/g, 'n')).join('|'); }
function handleRequest(i) { const r = parseRequest(i); return JSON.stringify({ id: r.id, t: transform(r) }); }
const end = Date.now() + 1000 * Number(process.argv[2] || 1);
let n = 0;
function tick() {
  for (let k = 0; k < 2000; k++) n += handleRequest(n).length;
  if (Date.now() < end) setImmediate(tick);
  else console.log(`done ${n}`);
}
tick();
