'use strict';
// Node workloads for tests/jit/jit.py. usage: node wl_node.js MODE TRUTH.json
//
// Each mode measures the CPU time of the functions it runs with process.cpuUsage() (the
// process's CPU; Node 20 has no per-thread clock) and writes it to TRUTH.json.
//   split   leafA/leafB/leafC in short slices, round-robin in a shuffled order, ~1:2:3
//   deep    a 300-deep recursion `rec` with the work in `bottom`
//   churn   96 generated functions churn_N, run once each in batches of 8 (each batch by its
//           own long-lived driver batch_K), then dropped and collected (needs --expose-gc), so
//           that later code reuses the addresses of freed code
//   worker  workerBurn in a worker_threads Worker while the main thread waits, then mainBurn
const fs = require('fs');

function cpuUs() {
  const u = process.cpuUsage();
  return u.user + u.system;
}
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

// Three functions with different bodies, too different for one to stand in for another.
function leafA(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i + 0.5); return s; }
function leafB(n) { let s = 1; for (let i = 0; i < n; i++) s = (s * 1.0000001 + i) % 1e9; return s; }
function leafC(n) { let s = 0; for (let i = 0; i < n; i++) s += (i ^ (i >>> 3)) & 0xff; return s; }

function split(truth) {
  const fns = [leafA, leafB, leafC];
  const mult = [1, 2, 3];
  let sink = 0;
  // Warm up (to optimized code), then size each function's slice: ~2 ms x mult. All of it is
  // the functions' CPU time too, and counted.
  const cpu = { leafA: 0, leafB: 0, leafC: 0 };
  for (let r = 0; r < 20; r++) {
    for (const f of fns) {
      const t0 = cpuUs();
      sink += f(20000);
      cpu[f.name] += cpuUs() - t0;
    }
  }
  const n = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    for (let it = 1000; ; it *= 2) {
      const t0 = cpuUs();
      sink += fns[k](it);
      const d = cpuUs() - t0;
      cpu[fns[k].name] += d;
      if (d > 20000) { n[k] = Math.round(it * 2000 / d) * mult[k]; break; }
    }
  }
  const order = [0, 1, 2];
  const start = cpuUs();
  while (cpuUs() - start < 2.5e6) {
    for (let i = 2; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const k of order) {
      const f = fns[k];
      const t0 = cpuUs();
      sink += f(n[k]);
      cpu[f.name] += cpuUs() - t0;
    }
  }
  truth.functions = cpu;
  truth.slice_iterations = n;
  truth.sink = sink > 0;
}

function bottom(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i + 0.5); return s; }
function rec(d, n) { if (d === 0) return bottom(n); return rec(d - 1, n) + 1; }

function deep(truth) {
  const DEPTH = 300;
  let sink = 0, calls = 0;
  const start = cpuUs();
  while (cpuUs() - start < 2e6) { sink += rec(DEPTH, 200000); calls++; }
  truth.depth = DEPTH;
  truth.calls = calls;
  truth.functions = { rec: cpuUs() - start };
  truth.sink = sink > 0;
}

function churn(truth) {
  const BATCHES = 12, PER_BATCH = 8;
  if (typeof global.gc !== 'function') throw new Error('churn needs --expose-gc');
  truth.functions = {};
  truth.exec_maps = [];
  let curBatch = 0;
  const record = (f, budget) => {
    const w0 = nowMs(), t0 = cpuUs();
    const s = f(budget);
    const t1 = cpuUs(), w1 = nowMs();
    truth.functions[f.name] = { cpu_us: t1 - t0, start_ms: w0, end_ms: w1, batch: curBatch,
                                budget_us: budget, sink: s > 0 };
  };
  // The drivers live to the end: their frames name the batch a churn frame ran in.
  const drivers = [];
  for (let b = 0; b < BATCHES; b++) {
    drivers.push(new Function(`return function batch_${b}(fns, budgets, record) {
      for (let i = 0; i < fns.length; i++) record(fns[i], budgets[i]);
    };`)());
  }
  // Executable mappings after each batch: which perf-map entries are code (the JS:~ entries
  // of bytecode arrays lie in the ordinary heap).
  const snapshotMaps = () => {
    for (const ln of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) ..x/.exec(ln);
      if (m) truth.exec_maps.push([m[1], m[2]]);
    }
  };
  let id = 0;
  for (let b = 0; b < BATCHES; b++) {
    curBatch = b;
    let fns = [], budgets = [];
    for (let i = 0; i < PER_BATCH; i++, id++) {
      const c = (id * 7919) % 97;
      // A distinct source per function (no compilation-cache sharing); the loop runs until
      // the budget is spent, so the function is one call, hot enough for on-stack replacement.
      fns.push(new Function(`return function churn_${id}(budget) {
        let s = ${c};
        const t0 = process.cpuUsage(), t0us = t0.user + t0.system;
        for (;;) {
          for (let k = 0; k < 20000; k++) s += Math.sqrt(k + ${c}.25) * ${1 + c / 100};
          const t = process.cpuUsage();
          if (t.user + t.system - t0us >= budget) return s;
        }
      }`)());
      budgets.push(8000 + ((id * 5) % 13) * 3000); // 8..44 ms, distinct neighbours
    }
    drivers[b](fns, budgets, record);
    snapshotMaps();
    fns = null;
    budgets = null;
    global.gc();
    global.gc();
  }
  truth.batches = BATCHES;
  truth.per_batch = PER_BATCH;
}

function workerBurn(cpuBudgetUs) {
  let s = 0;
  const t0 = cpuUs();
  while (cpuUs() - t0 < cpuBudgetUs) for (let i = 0; i < 100000; i++) s += Math.sqrt(i + 0.25);
  return s;
}
function mainBurn(cpuBudgetUs) {
  let s = 0;
  const t0 = cpuUs();
  while (cpuUs() - t0 < cpuBudgetUs) for (let i = 0; i < 100000; i++) s += (i * 7) % 13;
  return s;
}

function worker(truth, done) {
  const { Worker } = require('worker_threads');
  const t0 = cpuUs();
  const w = new Worker(__filename, { argv: ['worker-child'] });
  w.on('error', (e) => { throw e; });
  w.on('exit', (code) => {
    truth.worker_exit = code;
    truth.functions = { workerBurn: cpuUs() - t0 };
    const t1 = cpuUs();
    truth.sink = mainBurn(500000) > 0;
    truth.functions.mainBurn = cpuUs() - t1;
    done();
  });
}

function main() {
  const { isMainThread } = require('worker_threads');
  if (!isMainThread) {
    workerBurn(1500000); // the main thread waits meanwhile: process CPU ~ this thread's
    return;
  }
  const [mode, truthPath] = process.argv.slice(2);
  const truth = { pid: process.pid, mode };
  const write = () => {
    truth.process_cpu_us = cpuUs();
    fs.writeFileSync(truthPath, JSON.stringify(truth));
  };
  const modes = { split, deep, churn };
  if (mode === 'worker') {
    worker(truth, write);
  } else if (modes[mode]) {
    modes[mode](truth);
    write();
  } else {
    console.error(`usage: node wl_node.js split|deep|churn|worker TRUTH.json`);
    process.exit(2);
  }
}

main();
