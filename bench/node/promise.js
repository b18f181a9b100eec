// promise.js: the Node.js side of bench/promise.sh, same shapes as bench/bench_promise.cpp:
//   chain: p = resolve(0); N times p = p.then(v => v + 1); wait for the last one.
//   all:   M times all([resolve(0) … resolve(9)]).then(count); wait for all of them.
// Each shape runs once at a tenth of its size to warm up, then once measured.
//   node promise.js <q1|q2|native> [chain N=1000000] [all M=100000]
'use strict';

const implementations = {
  q1: () => { const Q = require('q'); return { name: `q ${require('q/package.json').version}`, resolve: Q, all: Q.all }; },
  q2: () => { const Q = require('q2'); return { name: `q ${require('q2/package.json').version}`, resolve: Q, all: Q.all }; },
  native: () => ({ name: 'native Promise', resolve: (v) => Promise.resolve(v), all: (a) => Promise.all(a) }),
};

const which = process.argv[2];
if (!implementations[which]) {
  console.error('usage: node promise.js <q1|q2|native> [chain] [all]');
  process.exit(2);
}
const P = implementations[which]();
const chainCount = Number(process.argv[3] || 1000000);
const allCount = Number(process.argv[4] || 100000);

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

function runChain(count) {
  return new Promise((done) => {
    const start = process.hrtime.bigint();
    let promise = P.resolve(0);
    for (let i = 0; i < count; i++) promise = promise.then((v) => v + 1);
    promise.then((v) => {
      if (v !== count) throw new Error(`chain: got ${v}, expected ${count}`);
      done(seconds(start));
    });
  });
}

function runAll(count) {
  return new Promise((done) => {
    const start = process.hrtime.bigint();
    let finished = 0;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const inputs = [];
      for (let j = 0; j < 10; j++) inputs.push(P.resolve(j));
      P.all(inputs).then((values) => {
        total += values.length;
        if (++finished === count) {
          if (total !== 10 * count) throw new Error(`all: got ${total} values`);
          done(seconds(start));
        }
      });
    }
  });
}

(async () => {
  await runChain(chainCount / 10);
  const chain = await runChain(chainCount);
  await runAll(allCount / 10);
  const all = await runAll(allCount);
  console.log(`# ${P.name}`);
  console.log(`chain: ${chainCount} thens in ${chain.toFixed(3)} s = ${(chainCount / chain).toFixed(0)} thens/s`);
  console.log(`all: ${allCount} alls of 10 in ${all.toFixed(3)} s = ${(allCount / all).toFixed(0)} alls/s`);
})();
