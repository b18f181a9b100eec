// auto.js: the Node.js side of bench/auto.sh: async.auto 3.2.6 on the two graphs bench_auto runs.
//   node bench/node/auto.js [diamond_runs=100000] [dag_runs=100] [small_dag_runs=10000]
// diamond: a; b and c after a; tasks call back synchronously; runs one after another.
// dag: 100 layers of 100 tasks, each needing two of the layer before, each calling back on the
// next loop turn (setImmediate), so async's missing stack safety does not bite; runs one after
// another, the next started from the final callback of the previous one.
// small dag: the same with 10 layers of 10 tasks. async checks the graph for cycles in time
// quadratic in the number of tasks (getDependents scans every task), which dominates the big dag.
'use strict';
const async = require('async');

const diamondRuns = Number(process.argv[2] || 100000);
const dagRuns = Number(process.argv[3] || 100);
const smallDagRuns = Number(process.argv[4] || 10000);

// Wall time and this process's CPU time: on a busy machine the second is the steadier figure.
function stopwatch() {
  return { wall: process.hrtime.bigint(), cpu: process.cpuUsage() };
}

function report(name, runs, since, unit) {
  const elapsed = Number(process.hrtime.bigint() - since.wall) / 1e9;
  const cpu = process.cpuUsage(since.cpu);
  const used = (cpu.user + cpu.system) / 1e6;
  console.log(`${name}: ${runs} runs${unit} in ${elapsed.toFixed(3)} s (cpu ${used.toFixed(3)} s) = ` +
    `${(runs / elapsed).toFixed(4)} runs/s, ${(runs / used).toFixed(4)} runs/cpu-s`);
}

function diamond(runs, label) {
  let checked = 0;
  const start = stopwatch();
  for (let i = 0; i < runs; i++) {
    async.auto({
      a: (cb) => cb(null, 1),
      b: ['a', (r, cb) => cb(null, r.a + 1)],
      c: ['a', (r, cb) => cb(null, r.a + 2)],
    }, (err, results) => {
      if (err || results.b + results.c !== 5) throw new Error('diamond: wrong results');
      checked++;
    });
  }
  if (checked !== runs) throw new Error('diamond: not every run completed');
  if (label) report(label, runs, start, '');
}

const name = (layer, i) => `L${layer}_${i}`;

function dagTasks(layers, width) {
  const tasks = {};
  for (let layer = 0; layer < layers; layer++) {
    for (let i = 0; i < width; i++) {
      const run = (...args) => setImmediate(args[args.length - 1], null, layer);
      tasks[name(layer, i)] = layer === 0 ? run
        : [name(layer - 1, i), name(layer - 1, (i + 1) % width), run];
    }
  }
  return tasks;
}

function dag(label, layers, width, runs, done) {
  if (runs <= 0) return done();
  let run = 0;
  const start = stopwatch();
  const next = () => {
    if (run === runs) {
      report(label, runs, start, ` of ${layers * width} tasks`);
      return done();
    }
    run++;
    async.auto(dagTasks(layers, width), (err, results) => {
      if (err || results[name(layers - 1, 0)] !== layers - 1) throw new Error('dag: wrong results');
      next();
    });
  };
  next();
}

diamond(Math.floor(diamondRuns / 5), null); // warm-up for the JIT, not reported
diamond(diamondRuns, 'diamond');
dag('dag', 100, 100, dagRuns, () => dag('small dag', 10, 10, smallDagRuns, () => {}));
