#!/usr/bin/env python3
"""A small real OTLP metrics receiver for the tests: OTLP/HTTP (POST /v1/metrics, protobuf) and OTLP/gRPC
(MetricsService/Export) on 127.0.0.1, each request decoded with the official opentelemetry-proto messages.

GET /received answers every export received so far as JSON: a list of
{"transport": "http"|"grpc", "headers": {lower-case name: value}, "request": ExportMetricsServiceRequest as
JSON with the proto's field names (64-bit integers are strings)}. DELETE /received forgets them.

Usage: otlp_receiver.py [--http-port N] [--grpc-port N]   (0, the default: any free port)
Prints one line, {"http": PORT, "grpc": PORT}, once both listen. Runs until killed.
"""

import argparse
import json
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc

RECEIVED = []
LOCK = threading.Lock()


def keep(transport, headers, request):
    entry = {
        "transport": transport,
        "headers": {k.lower(): v for k, v in headers},
        "request": json_format.MessageToDict(request, preserving_proto_field_name=True),
    }
    with LOCK:
        RECEIVED.append(entry)


class Http(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/metrics":
            return self.reply(404, b"not found", "text/plain")
        request = metrics_service_pb2.ExportMetricsServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as e:  # a malformed body is the exporter's bug: say so
            return self.reply(400, str(e).encode(), "text/plain")
        keep("http", self.headers.items(), request)
        response = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
        self.reply(200, response, "application/x-protobuf")

    def do_GET(self):
        if self.path != "/received":
            return self.reply(404, b"not found", "text/plain")
        with LOCK:
            body = json.dumps(RECEIVED).encode()
        self.reply(200, body, "application/json")

    def do_DELETE(self):
        with LOCK:
            RECEIVED.clear()
        self.reply(204, b"", "text/plain")


class Grpc(metrics_service_pb2_grpc.MetricsServiceServicer):
    def Export(self, request, context):
        keep("grpc", context.invocation_metadata(), request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--grpc-port", type=int, default=0)
    args = parser.parse_args()
    http = ThreadingHTTPServer(("127.0.0.1", args.http_port), Http)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Grpc(), server)
    grpc_port = server.add_insecure_port(f"127.0.0.1:{args.grpc_port}")
    server.start()
    print(json.dumps({"http": http.server_address[1], "grpc": grpc_port}), flush=True)
    http.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
