// db.js: a Node worker that follows the broker's IPC contract, like the tutorial's db.js.
//
//   02-sync-callbacks 0 --worker 'node tests/node/db.js'
//
// Accepts the flags the broker appends (--latency MS, --block spin|sleep, --data FILE) and
// --quiet. Answers {"id","bucket","query"} with {"id","result"} or {"id","error":{message,code}},
// one query at a time (the handler blocks, so Node delivers the next message only afterwards),
// and exits when the parent disconnects. Its data set has the same shape as broker-worker's
// (users 1-100, each with posts and comments, 0-3 likes per post), built the same deterministic way.
'use strict';

const fs = require('fs');

function parseArgs(argv) {
  const options = { latency: 1000, block: 'spin', data: null, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--latency') options.latency = Number(argv[++i]);
    else if (arg === '--block') options.block = argv[++i];
    else if (arg === '--data') options.data = argv[++i];
    else if (arg === '--quiet') options.quiet = true;
    else {
      console.error(`db.js: unexpected argument '${arg}'`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(options.latency) || options.latency < 0) {
    console.error('db.js: --latency wants a number of milliseconds');
    process.exit(2);
  }
  if (options.block !== 'spin' && options.block !== 'sleep') {
    console.error('db.js: --block is spin or sleep');
    process.exit(2);
  }
  return options;
}

// The same generator as broker-worker's built-in data set (broker-worker/data_set.cpp).
function builtInData() {
  const first = ['Ada', 'Alan', 'Barbara', 'Brian', 'Claude', 'Dennis', 'Donald', 'Edsger', 'Frances',
    'Grace', 'John', 'Ken', 'Leslie', 'Margaret', 'Niklaus', 'Radia', 'Robin', 'Tony'];
  const last = ['Allen', 'Backus', 'Cerf', 'Dijkstra', 'Floyd', 'Hamilton', 'Hoare', 'Hopper',
    'Kernighan', 'Knuth', 'Lamport', 'Liskov', 'Lovelace', 'McCarthy', 'Milner', 'Perlman',
    'Ritchie', 'Shannon', 'Thompson', 'Wirth'];
  const topics = ['callbacks', 'event loops', 'promises', 'back pressure', 'worker pools', 'timeouts',
    'pipes', 'file descriptors'];
  const data = { users: [], posts: [], comments: [], likes: [] };
  let totalPosts = 0;
  for (let id = 1; id <= 100; id++) totalPosts += 1 + (id % 3);
  let nextPost = 1;
  let nextComment = 1;
  for (let id = 1; id <= 100; id++) {
    const f = first[(id - 1) % first.length];
    const l = last[(id * 7) % last.length];
    data.users.push({ id, name: `${f} ${l}`, email: `${f.toLowerCase()}.${l.toLowerCase()}${id}@example.com` });
    for (let k = 0; k < 1 + (id % 3); k++) {
      const topic = topics[(id + k) % topics.length];
      data.posts.push({ id: nextPost++, poster: id, title: `On ${topic}, part ${k + 1}`, body: `${f} writes about ${topic}.` });
    }
    for (let k = 0; k < 1 + ((id * 2) % 3); k++) {
      data.comments.push({
        id: nextComment++, commenter: id, post: ((id * 13 + k * 17) % totalPosts) + 1,
        text: `Thanks, that helped with ${topics[(k + Math.floor(id / 3)) % topics.length]}.`,
      });
    }
  }
  for (let post = 1; post <= totalPosts; post++) {
    for (let k = 0; k < (post * 7) % 4; k++) data.likes.push({ post, liker: ((post * 31 + k * 17) % 100) + 1 });
  }
  return data;
}

// The likes of the posts asked for: post by post in the order asked (once each), each post's
// likes in data-set order, as broker-worker answers them.
function likesOf(data, posts) {
  const result = [];
  for (const post of new Set(posts)) result.push(...(data.likes || []).filter((l) => l.post === post));
  return result;
}

function block(options) {
  if (options.latency === 0) return;
  if (options.block === 'sleep') {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, options.latency);
    return;
  }
  const end = Date.now() + options.latency;
  while (Date.now() < end) { /* spin, like the tutorial */ }
}

function answer(data, bucket, query) {
  const isId = (v) => Number.isInteger(v);
  if (bucket === 'users') {
    if (!isId(query)) return { error: { message: `a users query is a user id, not ${JSON.stringify(query)}`, code: 'EBADQUERY' } };
    const user = data.users.find((u) => u.id === query);
    return user ? { result: user } : { error: { message: `no user with id ${query}`, code: 'ENOTFOUND' } };
  }
  if (bucket === 'posts') {
    if (!query || !isId(query.poster)) return { error: { message: `a posts query is {"poster":<user id>}, not ${JSON.stringify(query)}`, code: 'EBADQUERY' } };
    return { result: data.posts.filter((p) => p.poster === query.poster) };
  }
  if (bucket === 'comments') {
    if (!query || !isId(query.commenter)) return { error: { message: `a comments query is {"commenter":<user id>}, not ${JSON.stringify(query)}`, code: 'EBADQUERY' } };
    return { result: data.comments.filter((c) => c.commenter === query.commenter) };
  }
  if (bucket === 'likes') {
    if (!query || !Array.isArray(query.posts) || !query.posts.every(isId)) return { error: { message: `a likes query is {"posts":[<post id>,…]}, not ${JSON.stringify(query)}`, code: 'EBADQUERY' } };
    return { result: likesOf(data, query.posts) };
  }
  return { error: { message: `unknown bucket '${bucket}' (there are users, posts, comments and likes)`, code: 'EBADQUERY' } };
}

const options = parseArgs(process.argv.slice(2));
if (!process.send) {
  console.error('db.js: no IPC channel (NODE_CHANNEL_FD): start me from the broker or child_process.fork');
  process.exit(2);
}
let data;
try {
  data = options.data ? JSON.parse(fs.readFileSync(options.data, 'utf8')) : builtInData();
} catch (error) {
  console.error(`db.js: --data ${options.data}: ${error.message}`);
  process.exit(2);
}

process.on('message', (message) => {
  if (message === null || typeof message !== 'object' || message.id === undefined) {
    console.error(`db.js: cannot answer ${JSON.stringify(message)}`);
    return;
  }
  const { id, bucket, query } = message;
  if (!options.quiet) console.error(`${Date.now()}: query started ${bucket} ${JSON.stringify(query)}`);
  block(options);
  const reply = answer(data, bucket, query);
  if (!options.quiet) console.error(`${Date.now()} query finished ${bucket} ${JSON.stringify(query)}`);
  process.send({ id, ...reply });
});
process.on('disconnect', () => process.exit(0));
