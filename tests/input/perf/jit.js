function leafA(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i + x); return x; }
function leafB(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i * x + 1); return x; }
let s = 0; const t0 = Date.now();
while (Date.now() - t0 < 800) { s += leafA(200000); s += leafB(100000); }
console.log(s > 0 ? "ok" : "no");
