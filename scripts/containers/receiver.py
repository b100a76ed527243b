"""Webhook receiver of the containers test: runs in the test's tools container on the topology's
network (the webapp posts to http://tools:8000/), answers 200 to every POST and appends its body
as one JSON line to HOOKS, which check.py reads. `docker compose logs tools` shows every webhook,
which is also the quickest way to watch them by hand."""

import http.server
import json
import sys

HOOKS = "/tmp/hooks.jsonl"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            line = json.dumps(json.loads(body))
        except ValueError:
            line = json.dumps({"unparsed": body.decode("utf-8", "replace")})
        with open(HOOKS, "a", encoding="utf-8") as hooks:
            hooks.write(line + "\n")
        print("webhook", line, flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    open(HOOKS, "a", encoding="utf-8").close()
    print("webhook receiver on :8000", flush=True)
    sys.stdout.flush()
    http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
