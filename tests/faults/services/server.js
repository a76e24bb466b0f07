// A node HTTP service for services.py: each request computes work(); stopped by a signal
// (node's own SIGINT/SIGTERM handler: reset the terminal, raise the signal again).
// usage: node server.js PORT
'use strict';
const http = require('http');

function work(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.sqrt(i) * Math.sin(i);
  return s;
}

const server = http.createServer((req, res) => {
  res.end(String(work(300000)));
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
