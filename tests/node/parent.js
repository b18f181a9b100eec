// parent.js: Node starts broker-worker the way the tutorial forks db.js, and checks its replies.
//
//   node tests/node/parent.js path/to/broker-worker [worker flags…]
//
// Sends one query per bucket plus the error cases over child.send(), waits for every reply on
// child.on('message'), prints them as one JSON line on stdout and disconnects. The worker must
// then exit 0 (it sees EOF). Exit code 0 when every reply was as expected, 1 otherwise.
'use strict';
const { spawn } = require('child_process');

const [workerPath, ...workerArgs] = process.argv.slice(2);
if (!workerPath) {
  console.error('usage: node parent.js WORKER [ARGS...]');
  process.exit(2);
}

const queries = [
  { id: 1, bucket: 'users', query: 1 },
  { id: 2, bucket: 'posts', query: { poster: 1 } },
  { id: 3, bucket: 'comments', query: { commenter: 1 } },
  { id: 4, bucket: 'users', query: 4242 },
  { id: 5, bucket: 'nope', query: 1 },
  { id: 'text-id', bucket: 'posts', query: { poster: 'x' } },
];

const child = spawn(workerPath, workerArgs, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
const replies = {};
const timer = setTimeout(() => finish('timed out waiting for replies'), 10000);

child.on('message', (reply) => {
  replies[reply.id] = reply;
  if (Object.keys(replies).length === queries.length) finish(null);
});
child.on('exit', (code, signal) => {
  const result = { exit: code, signal, replies };
  console.log(JSON.stringify(result));
  process.exit(code === 0 && check(replies) ? 0 : 1);
});

function finish(problem) {
  clearTimeout(timer);
  if (problem) console.error('parent.js: ' + problem);
  child.disconnect();  // EOF on the worker's channel: it must exit 0
}

function check(r) {
  const ok =
    r[1] && r[1].result && r[1].result.id === 1 &&
    r[2] && Array.isArray(r[2].result) && r[2].result.length > 0 && r[2].result.every((p) => p.poster === 1) &&
    r[3] && Array.isArray(r[3].result) && r[3].result.every((c) => c.commenter === 1) &&
    r[4] && r[4].error && r[4].error.code === 'ENOTFOUND' && /4242/.test(r[4].error.message) &&
    r[5] && r[5].error && r[5].error.code === 'EBADQUERY' &&
    r['text-id'] && r['text-id'].error && r['text-id'].error.code === 'EBADQUERY';
  if (!ok) console.error('parent.js: unexpected replies');
  return ok;
}

for (const q of queries) child.send(q);
