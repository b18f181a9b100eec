// static.js: the tutorial's static file server done right, in plain Node (the benchmark's
// Node.js side for 01-file-server). `node static.js [PORT] [ROOT]`; PORT 0 picks a free port.
//
// Fixes to the tutorial's version: parseInt(port, 10); the path is decoded and normalised and
// must stay inside ROOT; fs.stat is asynchronous; the body is streamed with
// fs.createReadStream (not read whole); every path ends the response.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const port = parseInt(process.argv[2] || '8080', 10);
const root = fs.realpathSync(process.argv[3] || '.');
const types = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml',
};

function fail(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${status} ${text}\n`);
}

function send(req, res, file, stat) {
  res.writeHead(200, {
    'Content-Type': types[path.extname(file).toLowerCase()] || 'application/octet-stream',
    'Content-Length': stat.size,
    'Last-Modified': stat.mtime.toUTCString(),
  });
  if (req.method === 'HEAD') return res.end();
  const stream = fs.createReadStream(file);
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

function serve(req, res, file, triedIndex) {
  fs.stat(file, (err, stat) => {
    if (err) return fail(res, 404, 'Not Found');
    if (stat.isDirectory() && !triedIndex) return serve(req, res, path.join(file, 'index.html'), true);
    if (!stat.isFile()) return fail(res, 404, 'Not Found');
    send(req, res, file, stat);
  });
}

http.createServer((req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'Method Not Allowed');
  let uri;
  try {
    uri = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    return fail(res, 400, 'Bad Request');
  }
  const file = path.join(root, path.normalize(uri));
  if (uri.includes('\0') || (file !== root && !file.startsWith(root + path.sep)))
    return fail(res, 403, 'Forbidden');
  serve(req, res, file, false);
}).listen(port, '127.0.0.1', function () {
  console.log(`listening on http://127.0.0.1:${this.address().port}/`);
});
