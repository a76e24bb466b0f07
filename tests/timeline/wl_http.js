// wl_http.js - a node HTTP service for the timeline tests: GET /a runs handleA, GET /b
// handleB, each burning about 4 ms of CPU in its own function; it prints "port N" once it
// listens on 127.0.0.1.
'use strict';
const http = require('http');

function burnA(ms) {
  const end = Date.now() + ms;
  let x = 1;
  while (Date.now() < end) for (let i = 0; i < 2000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}
function burnB(ms) {
  const end = Date.now() + ms;
  let x = 1.5;
  while (Date.now() < end) for (let i = 0; i < 2000; i++) x = Math.sqrt(x * x + i) % 1000;
  return x;
}
function handleA(res) { res.end(String(burnA(4))); }
function handleB(res) { res.end(String(burnB(4))); }

const server = http.createServer((req, res) => {
  if (req.url === '/a') handleA(res);
  else if (req.url === '/b') handleB(res);
  else res.end('ok');
});
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
