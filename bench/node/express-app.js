// express-app.js: the tutorial's four routes in Express 4, written the tutorial's way but
// correct, plus /await (async/await, Node's own next chapter), so that bench/stages.sh can load
// stages 02-06 and this side by side.
//
//   node bench/node/express-app.js [PORT] [--workers N] [--latency MS] [--block spin|sleep]
//                                  [--worker PATH] [--quiet]
//
// PORT 0 picks a free port; the first stdout line is "listening on http://127.0.0.1:PORT/".
// The "database" is a pool of N children started with child_process.fork (default worker:
// tests/node/db.js, the Node worker of the broker's IPC contract), each given one query at a time
// and a FIFO queue in front of them — the same shape as common::Broker with its default pipeline
// of one. --quiet is passed on to the workers (no per-query log); Express has no access log.
//
// Fixes to the tutorial's code, each the obvious one: posts and comments are asked for with the
// user's id ({poster: user.id}), the counter of /brew is incremented, /async asks "comments" for
// comments, /promise keeps the user on the way to spread(), and an error becomes a JSON answer
// with the status stages 02-06 give it, instead of Express's HTML error page.
'use strict';

const path = require('path');
const { fork } = require('child_process');
const express = require('express');
const async = require('async');
const Q = require('q');

function parseArgs(argv) {
  const options = {
    port: 8000, workers: 2, latency: 1000, block: 'spin', quiet: false,
    worker: path.join(__dirname, '..', '..', 'tests', 'node', 'db.js'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--workers') options.workers = Number(argv[++i]);
    else if (arg === '--latency') options.latency = Number(argv[++i]);
    else if (arg === '--block') options.block = argv[++i];
    else if (arg === '--worker') options.worker = argv[++i];
    else if (arg === '--quiet') options.quiet = true;
    else if (/^\d+$/.test(arg)) options.port = Number(arg);
    else {
      console.error(`express-app.js: unexpected argument '${arg}'`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    console.error('express-app.js: --workers wants a positive number');
    process.exit(2);
  }
  return options;
}

// ------------------------------------------------------------------ the pool of forked workers

const QUEUE_LIMIT = 1024;

function queryError(message, code) {
  const error = new Error(message);
  error.code = code;
  return error;
}

// N children, each answering one query at a time; queries wait in a FIFO queue for a free child.
class Pool {
  constructor(options) {
    this.options = options;
    this.all = new Set();
    this.idle = [];
    this.queue = [];
    this.nextId = 1;
    this.closing = false;
    for (let i = 0; i < options.workers; i++) this.idle.push(this.start());
  }

  start() {
    const args = ['--latency', String(this.options.latency), '--block', this.options.block];
    if (this.options.quiet) args.push('--quiet');
    const worker = { child: fork(this.options.worker, args), job: null };
    this.all.add(worker);
    worker.child.on('message', (message) => this.finish(worker, message));
    worker.child.on('exit', (code, signal) => this.lost(worker, code, signal));
    return worker;
  }

  query(bucket, query, cb) {
    const job = { id: this.nextId++, bucket, query, cb };
    const worker = this.idle.pop();
    if (worker) return this.send(worker, job);
    if (this.queue.length >= QUEUE_LIMIT) {
      return process.nextTick(cb, queryError('the query queue is full', 'EQUEUEFULL'));
    }
    this.queue.push(job);
  }

  send(worker, job) {
    worker.job = job;
    worker.child.send({ id: job.id, bucket: job.bucket, query: job.query });
  }

  finish(worker, message) {
    const job = worker.job;
    if (!job || !message || message.id !== job.id) return; // not ours (or a late answer)
    this.next(worker);
    if (message.error) return job.cb(queryError(message.error.message, message.error.code));
    return job.cb(null, message.result);
  }

  next(worker) {
    worker.job = null;
    const job = this.queue.shift();
    if (job) this.send(worker, job);
    else this.idle.push(worker);
  }

  // A crashed worker's query fails and a fresh worker takes its place.
  lost(worker, code, signal) {
    const job = worker.job;
    worker.job = null;
    this.all.delete(worker);
    this.idle = this.idle.filter((w) => w !== worker);
    if (job) job.cb(queryError(`the worker died (${signal || `exit ${code}`})`, 'EWORKER'));
    if (!this.closing) this.next(this.start());
  }

  // Closing the channels makes every worker exit (db.js exits on 'disconnect').
  close() {
    this.closing = true;
    for (const worker of this.all) {
      if (worker.child.connected) worker.child.disconnect();
    }
  }
}

const options = parseArgs(process.argv.slice(2));
const pool = new Pool(options);

// The tutorial's db_query(bucket, query, callback(err, result)).
function db_query(bucket, query, cb) {
  pool.query(bucket, query, cb);
}

// ------------------------------------------------------------------ the routes

const app = express();

// :userId must be a positive integer no larger than Number.MAX_SAFE_INTEGER (as in the stages).
app.param('userId', (req, res, next, value) => {
  const id = /^\d{1,16}$/.test(value) ? Number(value) : 0;
  if (id < 1 || id > Number.MAX_SAFE_INTEGER) {
    return res.status(400).json({ error: `userId must be a positive integer, not '${value}'` });
  }
  req.userId = id;
  return next();
});

// Nested callbacks: three queries, one after another.
app.get('/sync/:userId', (req, res, next) => {
  db_query('users', req.userId, (err, user) => {
    if (err) return next(err);
    db_query('posts', { poster: user.id }, (err, posts) => {
      if (err) return next(err);
      db_query('comments', { commenter: user.id }, (err, comments) => {
        if (err) return next(err);
        return res.json({ user, posts, comments });
      });
    });
  });
});

// The home-brew counter: posts and comments at once, the first error answered once.
app.get('/brew/:userId', (req, res, next) => {
  const result = {};
  let cbCounter = 0;
  let gotError = false;

  function checkError(err, cb) {
    if (gotError) return;
    if (err) {
      gotError = true;
      return next(err);
    }
    return cb();
  }

  function countIn() {
    if (++cbCounter === 3) return res.json(result);
  }

  db_query('users', req.userId, (err, user) => checkError(err, () => {
    result.user = user;
    countIn();
    db_query('posts', { poster: user.id }, (err, posts) => checkError(err, () => {
      result.posts = posts;
      return countIn();
    }));
    db_query('comments', { commenter: user.id }, (err, comments) => checkError(err, () => {
      result.comments = comments;
      return countIn();
    }));
  }));
});

// async.auto: declare what each task needs (async 3: the results come first, then the callback).
app.get('/async/:userId', (req, res, next) => {
  async.auto({
    user: (cb) => db_query('users', req.userId, cb),
    posts: ['user', (results, cb) => db_query('posts', { poster: results.user.id }, cb)],
    comments: ['user', (results, cb) => db_query('comments', { commenter: results.user.id }, cb)],
  }, (err, results) => {
    if (err) return next(err);
    return res.json(results);
  });
});

// Q: nfbind, then, all, spread.
const q_query = Q.nfbind(db_query);

function fetchPostsAndComments(user) {
  return Q.all([
    user,
    q_query('posts', { poster: user.id }),
    q_query('comments', { commenter: user.id }),
  ]);
}

function respond(res, user, posts, comments) {
  res.json({ user, posts, comments });
}

app.get('/promise/:userId', (req, res, next) => {
  q_query('users', req.userId)
    .then(fetchPostsAndComments)
    .spread(respond.bind(null, res))
    .fail(next)
    .done();
});

// async/await over the same promises: each await gives the event loop back; posts and comments
// are both started before the one await on Promise.all; a rejection is thrown at the await.
async function awaitUser(id) {
  const user = await q_query('users', id);
  const posts = q_query('posts', { poster: user.id });
  const comments = q_query('comments', { commenter: user.id });
  const [userPosts, userComments] = await Promise.all([posts, comments]);
  return { user, posts: userPosts, comments: userComments };
}

app.get('/await/:userId', (req, res, next) => {
  awaitUser(req.userId).then((body) => res.json(body), next);
});

app.use((req, res) => res.status(404).json({ error: `no route for ${req.method} ${req.path}` }));

const STATUS_FOR_CODE = { ENOTFOUND: 404, EINVAL: 400, EBADQUERY: 400, EQUEUEFULL: 503, ECLOSED: 503, ETIMEDOUT: 504 };

// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  res.status(STATUS_FOR_CODE[err.code] || 502).json({ error: err.message });
});

const server = app.listen(options.port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});

function shutdown() {
  server.close(() => {
    pool.close();
    process.exitCode = 0;
  });
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
