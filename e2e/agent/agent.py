"""A reference agent written with the Tenuo Python SDK (`pip install tenuo==0.3.3`),
run by `cargo xtask e2e` as a Kubernetes Job (image: e2e/agent/Dockerfile).

  agent.py fetch --control-plane URL --authorizer URL [--tasks N] [--ttl 60]
      Control-plane fetch: a keypair of its own; per task, asks the control plane
      for a warrant (bearer: its service account token, read from the projected
      file $TENUO_WORKLOAD_TOKEN_FILE), then calls through the authorizer with
      warrant.headers(key, tool, args).
  agent.py env --authorizer URL [--tasks N]
      Environment variable: the warrant from $TENUO_WARRANT_BASE64 and the key
      from $TENUO_AGENT_KEY (both from a Secret, through secretKeyRef).
  agent.py header --listen HOST:PORT --authorizer URL [--requests N]
      Request header: serves N requests (GET /task?path=P); its middleware reads
      the X-Tenuo-Warrant header its ingress injected and, in warrant_scope and
      key_scope (key from $TENUO_AGENT_KEY), calls through the authorizer;
      answers with the authorizer's status.

Each task reads one file under /data (must be allowed); the last call probes
/etc/passwd (must be denied). Prints one JSON summary line.
"""

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from tenuo import SigningKey, Warrant, key_scope, warrant_scope

# How long a serving agent waits for its requests before giving up.
SERVE_SECS = 240


def http(method, url, headers=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def call(authorizer, warrant, key, path):
    headers = warrant.headers(key, "read_file", {"path": path})
    query = urllib.parse.urlencode({"path": path}, safe="/")
    return http("GET", f"{authorizer}/files/read?{query}", headers)


def probe(authorizer, warrant, key, out, fail):
    """A call outside the warrant. The SDK refuses to make its headers; a
    compromised agent would sign anyway: the authorizer must deny."""
    try:
        warrant.headers(key, "read_file", {"path": "/etc/passwd"})
        fail("probe: the SDK made headers for an out-of-bounds call")
    except RuntimeError:
        pass
    pop = warrant.sign(key, "read_file", {"path": "/etc/passwd"}, int(time.time()))
    headers = {"X-Tenuo-Warrant": warrant.to_base64(),
               "X-Tenuo-PoP": base64.urlsafe_b64encode(bytes(pop)).decode().rstrip("=")}
    status, body = http("GET", f"{authorizer}/files/read?path=/etc/passwd", headers)
    out["requests"] += 1
    if status == 403 and json.loads(body).get("reason") == "constraint_violation":
        out["denied_as_expected"] += 1
    else:
        fail(f"probe: {status} {body}")
    return status, body


def serve(args, out, fail):
    """The request-header pattern: the guide's middleware, one request at a time."""
    key = SigningKey.from_bytes(bytes.fromhex(os.environ["TENUO_AGENT_KEY"]))
    served = 0

    def handle(path):
        # Runs in warrant_scope and key_scope, as the guide's middleware does.
        warrant, signer = warrant_scope(), key_scope()
        if path == "/etc/passwd":
            return probe(args.authorizer, warrant, signer, out, fail)
        status, body = call(args.authorizer, warrant, signer, path)
        out["requests"] += 1
        if status == 200:
            out["allowed"] += 1
        else:
            fail(f"{path}: {status} {body}")
        return status, body

    class Middleware(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            nonlocal served
            served += 1
            query = urllib.parse.urlparse(self.path).query
            path = urllib.parse.parse_qs(query).get("path", [""])[0]
            try:
                warrant = Warrant.from_base64(self.headers["X-Tenuo-Warrant"])
                out["warrants"] += 1
                with warrant_scope(warrant), key_scope(key):
                    status, body = handle(path)
            except Exception as err:  # noqa: BLE001 - answered and counted
                fail(f"{path}: {err}")
                status, body = 400, json.dumps({"error": str(err)})
            data = body.encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass  # stdout carries the summary line only

    host, port = args.listen.rsplit(":", 1)
    server = HTTPServer((host, int(port)), Middleware)
    server.timeout = 5
    deadline = time.monotonic() + SERVE_SECS
    while served < args.requests and time.monotonic() < deadline:
        server.handle_request()
    server.server_close()
    if served < args.requests:
        fail(f"{served} of {args.requests} requests arrived in {SERVE_SECS} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["fetch", "env", "header"])
    parser.add_argument("--control-plane")
    parser.add_argument("--authorizer", required=True)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--ttl", type=int, default=60)
    parser.add_argument("--listen")
    parser.add_argument("--requests", type=int, default=6)
    args = parser.parse_args()
    out = {"requests": 0, "allowed": 0, "denied_as_expected": 0, "failures": 0,
           "warrants": 0, "errors": []}

    def fail(message):
        out["failures"] += 1
        out["errors"].append(message)

    if args.mode == "header":
        serve(args, out, fail)
        print(json.dumps(out))
        return 0 if out["failures"] == 0 else 1

    if args.mode == "fetch":
        key = SigningKey.generate()
        token_file = os.environ["TENUO_WORKLOAD_TOKEN_FILE"]

        def get_warrant():
            # Read per task: the kubelet rotates the projected token.
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
            status, body = http(
                "POST",
                f"{args.control_plane}/v1/warrants",
                {"authorization": f"Bearer {token}"},
                {"holder": key.public_key_bytes().hex(), "ttl_secs": args.ttl},
            )
            if status != 200:
                raise RuntimeError(f"control plane {status}: {body}")
            issued = json.loads(body)
            if issued["ttl_secs"] > args.ttl:
                raise RuntimeError(f"TTL {issued['ttl_secs']} over the {args.ttl} s asked")
            out["warrants"] += 1
            return Warrant.from_base64(issued["warrant"])
    else:
        key = SigningKey.from_bytes(bytes.fromhex(os.environ["TENUO_AGENT_KEY"]))
        held = Warrant.from_base64(os.environ["TENUO_WARRANT_BASE64"])

        def get_warrant():
            return held

    warrant = None
    for task in range(args.tasks):
        try:
            warrant = get_warrant()  # per task: fresh, task-scoped authority
            status, body = call(args.authorizer, warrant, key, f"/data/report-{task}")
        except Exception as err:  # noqa: BLE001 - reported, counted as a failure
            out["requests"] += 1
            fail(f"task {task}: {err}")
            continue
        out["requests"] += 1
        if status == 200:
            out["allowed"] += 1
        else:
            fail(f"task {task}: {status} {body}")
    if warrant is not None:
        probe(args.authorizer, warrant, key, out, fail)
    print(json.dumps(out))
    return 0 if out["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
