// The Express twin of http-test-server's /echo/:name route, for bench/http-layer.sh.
// Usage: node echo_express.js PORT   (prints "listening on http://127.0.0.1:PORT/")
const express = require('express');

const app = express();
app.get('/echo/:name', (req, res) => {
  res.json({ name: req.params.name, version: req.httpVersion });
});
const server = app.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
