"""A Python HTTP service for services.py: each request computes work(); stopped by a signal
(SIGTERM: the default action; SIGINT: KeyboardInterrupt, uncaught, and CPython then ends by
SIGINT's default action). usage: python3 service.py PORT"""
import http.server
import sys


def work(n):
    s = 0.0
    for i in range(n):
        s += (i * 0.5) ** 0.5
    return s


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = str(work(100000)).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler)
print('listening', flush=True)
server.serve_forever()
