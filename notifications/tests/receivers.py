"""Real receivers on loopback: an HTTP server that speaks like a vendor, and an SMTP server.

The HTTP receiver checks signatures itself, straight from channels.md (not with
the code under test), and answers like the vendor would: a wrong signature is
an error code inside an HTTP 200.
"""

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


class _Server(ThreadingHTTPServer):
    # A vendor's listen backlog, not socketserver's 5: a batch opens up to 16 connections at once, and connects
    # beyond the backlog are dropped until the client's connect timeout (0.5 s in the tests) runs out.
    request_queue_size = 128


class Receiver:
    """Records every request; ``answers`` (status, body-dict or "hang") are used in turn, the last repeats."""

    def __init__(self, kind, secret="", answers=None, keep_alive=False, close_after_answer=False):
        """``keep_alive``: speak HTTP/1.1 and keep connections open, as vendors do; ``close_after_answer``: close
        each connection after answering without saying so (a keep-alive timeout running out between requests)."""
        self.kind, self.secret = kind, secret
        self.answers = list(answers or [])
        self.requests = []
        self.accepted = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "client": self.client_address})
                status, answer = receiver.next_answer()
                if answer == "hang":
                    time.sleep(1.5)
                    return
                problem = receiver.check(self.path, self.headers, body)
                if problem and status == 200:
                    answer = problem
                elif status == 200:
                    receiver.accepted.append(json.loads(body))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if close_after_answer:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def next_answer(self):
        ok = {"feishu": {"code": 0, "msg": "success"}}.get(self.kind, {"errcode": 0, "errmsg": "ok"})
        if not self.answers:
            return 200, ok
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer if isinstance(answer, tuple) else (200, answer)

    def check(self, path, headers, body):
        """The vendor's own checks: a problem answer (dict) or None."""
        if self.kind == "dingtalk":
            query = parse_qs(urlsplit(path).query)
            timestamp, sign = query["timestamp"][0], query["sign"][0]
            expected = base64.b64encode(hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            doc = json.loads(body)
            if sign != expected:
                return {"errcode": 310000, "errmsg": "sign not match"}
            if doc.get("msgtype") != "markdown" or not {"title", "text"} <= set(doc["markdown"]):
                return {"errcode": 40035, "errmsg": "bad markdown"}
            for mobile in doc.get("at", {}).get("atMobiles", []):
                if f"@{mobile}" not in doc["markdown"]["text"]:
                    return {"errcode": 40035, "errmsg": "mentioned mobile missing from text"}
        elif self.kind == "wecom":
            doc = json.loads(body)
            if "key" not in parse_qs(urlsplit(path).query):
                return {"errcode": 93000, "errmsg": "invalid webhook url"}
            if doc.get("msgtype") != "markdown" or len(doc["markdown"]["content"].encode()) > 4096:
                return {"errcode": 40058, "errmsg": "markdown content exceed"}
        elif self.kind == "feishu":
            doc = json.loads(body)
            key = f"{doc.get('timestamp')}\n{self.secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if doc.get("sign") != expected:
                return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
            if doc.get("msg_type") != "interactive" or "header" not in doc.get("card", {}):
                return {"code": 9499, "msg": "bad card"}
        elif self.kind == "webhook":
            timestamp = headers["X-Fenghuo-Timestamp"]
            mac = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            if headers["X-Fenghuo-Signature"] != f"sha256={mac}":
                return {"error": "bad signature"}
        elif self.kind == "sms":
            if headers.get("Authorization") != f"Bearer {self.secret}":
                return {"error": "unauthorised"}
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class MailSink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.messages.append(envelope)
        return "250 OK"


def start_smtp():
    sink = MailSink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, sink
