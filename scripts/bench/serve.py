#!/usr/bin/env python3
"""Serves a site made by gen_site.py on 127.0.0.1 (HTTP/1.1, keep-alive, threads).

Usage: serve.py SITE_DIR [PORT_FILE]

Listens on a free port and writes `http://127.0.0.1:PORT/` to PORT_FILE (or
stdout) once it accepts connections. Every file is read into memory at start.
Besides the files: `POST /beacon` answers 204; `GET /api/recommendations?...`
answers a small JSON list. `/p/12` serves `p/12.html`, `/` serves `index.html`.
`/slow` (GEN_SLOW=1) answers after 8 s.
Unknown paths answer 404. No request log (it would cost CPU during the runs).
"""

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json"}


def load(root):
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            full = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(full, root).replace(os.sep, "/")
            ext = os.path.splitext(name)[1]
            with open(full, "rb") as f:
                body = f.read()
            if ext == ".html":
                url = "/" if rel == "/index.html" else rel[: -len(".html")]
                files[url] = (body, TYPES[ext], "no-cache")
            elif rel != "/manifest.json":
                files[rel] = (body, TYPES.get(ext, "application/octet-stream"), "max-age=3600")
    return files


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files = {}

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype=None, cache="no-store"):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/api/recommendations":
            product = parse_qs(parts.query).get("product", ["0"])[0]
            try:
                seed = int(product)
            except ValueError:
                seed = 0
            items = [{"sku": f"SKU-{(seed * 7 + k) % 1000}", "name": f"Recommended {k}",
                      "price": 10 + (seed + k) % 90} for k in range(6)]
            return self.send(200, json.dumps(items).encode(), "application/json")
        found = self.files.get(parts.path)
        if parts.path == "/slow":
            time.sleep(8)
        if found is None:
            return self.send(404, b"not found", "text/plain")
        body, ctype, cache = found
        self.send(200, body, ctype, cache)

    do_HEAD = do_GET

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if urlsplit(self.path).path == "/beacon":
            return self.send(204)
        self.send(404, b"not found", "text/plain")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    Handler.files = load(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    if len(sys.argv) > 2:
        tmp = sys.argv[2] + ".tmp"
        with open(tmp, "w") as f:
            f.write(url + "\n")
        os.replace(tmp, sys.argv[2])
    else:
        print(url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
