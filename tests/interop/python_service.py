"""A Python HTTP service instrumented with the AWS X-Ray SDK.

Each request continues the caller's X-Amzn-Trace-Id as one segment, the way the SDK's own
framework middlewares do. Prints "PORT <n>" once listening and "HEADER <value>" per request.
Sends its documents to AWS_XRAY_DAEMON_ADDRESS.
"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.models.trace_header import TraceHeader

xray_recorder.configure(service="python-service", sampling=False, context_missing="LOG_ERROR")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        raw = self.headers.get("X-Amzn-Trace-Id", "")
        print(f"HEADER {raw}", flush=True)
        header = TraceHeader.from_header_str(raw)
        xray_recorder.begin_segment(
            "python-service", traceid=header.root, parent_id=header.parent, sampling=header.sampled
        )
        body = b"python ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        xray_recorder.end_segment()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.timeout = 30
while True:
    server.handle_request()
