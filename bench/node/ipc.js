// ipc.js: the Node side of bench/ipc.sh — round trips through child_process.fork.
//
//   node bench/node/ipc.js [--mode seq|inflight|spawn] [--inflight N] [--workers N] [--seconds S]
//
// The children run tests/node/db.js (the Node worker of the same IPC contract) with
// --latency 0 --quiet, and each query is {"id","bucket":"users","query":n} as our broker sends.
//   seq       one query at a time to one child
//   inflight  N queries outstanding, through a pool shaped like common::Broker: a FIFO queue,
//             one query per child at a time
//   channel   N queries outstanding, written straight into the children's channels
//             round-robin (each child answers its messages in order): Node's fork itself
//   spawn     a fresh fork per query, one at a time (the tutorial's toy broker)
// Prints one JSON line like bench_ipc: {"impl":"node","mode":…,"per_second":…}.
'use strict';
const { fork } = require('child_process');
const path = require('path');

const worker = path.join(__dirname, '..', '..', 'tests', 'node', 'db.js');
const workerArgs = ['--latency', '0', '--quiet'];

const settings = { mode: 'seq', inflight: 64, workers: 1, seconds: 3 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '');
  if (!(key in settings) || argv[i + 1] === undefined) {
    console.error(`ipc.js: bad option ${argv[i]}`);
    process.exit(2);
  }
  settings[key] = key === 'mode' ? argv[i + 1] : Number(argv[i + 1]);
}

let nextId = 0;
let completed = 0;
let failed = 0;
let started = 0;
// A timer says when the time is up, so no clock is read per answer (as in bench_ipc).
let timeUp = false;
const startClock = () => {
  started = Date.now();
  setTimeout(() => { timeUp = true; }, settings.seconds * 1000);
};
const deadline = () => timeUp;

function report() {
  const seconds = (Date.now() - started) / 1000;
  const window = settings.mode === 'seq' || settings.mode === 'spawn' ? 1 : settings.inflight;
  const workers = settings.mode === 'seq' || settings.mode === 'spawn' ? 1 : settings.workers;
  console.log(JSON.stringify({
    impl: 'node', mode: settings.mode, inflight: window, workers, round_trips: completed, failed,
    seconds: Number(seconds.toFixed(3)), per_second: Math.round(completed / seconds),
  }));
}

function query() {
  const id = ++nextId;
  return { id, bucket: 'users', query: (id % 100) + 1 };
}

// One query per child at a time; the rest wait in a FIFO queue (the broker's shape).
function runQueue(children, window) {
  const idle = [...children];
  const queue = [];
  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) idle.shift().send(queue.shift());
  };
  const ask = () => {
    queue.push(query());
    dispatch();
  };
  let outstanding = 0;
  for (const child of children) {
    child.on('message', (reply) => {
      outstanding--;
      completed++;
      if (reply.error) failed++;
      idle.push(child);
      if (!deadline()) {
        outstanding++;
        ask();
        return;
      }
      dispatch();
      if (outstanding === 0) {
        report();
        for (const c of children) c.disconnect();
      }
    });
  }
  startClock();
  for (let i = 0; i < window; i++) {
    outstanding++;
    ask();
  }
}

function runPool(children, window) {
  let outstanding = 0;
  let turn = 0;
  const send = () => {
    outstanding++;
    children[turn++ % children.length].send(query());
  };
  for (const child of children) {
    child.on('message', (reply) => {
      outstanding--;
      completed++;
      if (reply.error) failed++;
      if (!deadline()) return send();
      if (outstanding === 0) {
        report();
        for (const c of children) c.disconnect();
      }
    });
  }
  startClock();
  for (let i = 0; i < window; i++) send();
}

function runSpawn() {
  const once = () => {
    const child = fork(worker, workerArgs);
    child.on('message', (reply) => {
      completed++;
      if (reply.error) failed++;
      child.disconnect();
      if (!deadline()) return once();
      report();
    });
    child.send(query());
  };
  startClock();
  once();
}

if (settings.mode === 'spawn') {
  runSpawn();
} else if (['seq', 'inflight', 'channel'].includes(settings.mode)) {
  const count = settings.mode === 'seq' ? 1 : settings.workers;
  const children = Array.from({ length: count }, () => fork(worker, workerArgs));
  const window = settings.mode === 'seq' ? 1 : settings.inflight;
  if (settings.mode === 'inflight') runQueue(children, window);
  else runPool(children, window);
} else {
  console.error('ipc.js: --mode is seq, inflight, channel or spawn');
  process.exit(2);
}
