#!/usr/bin/env python3
"""Talks to NATS JetStream for scripts/bench.sh, with the standard library only
(no nats CLI on the machines): checks that a server answers, and deletes the
stream a benchmark run created, so runs leave nothing behind.

    bench_nats.py ping   nats://127.0.0.1:4222
    bench_nats.py delete nats://127.0.0.1:4222 STREAM

Exit status 0 on success, 1 when the server does not answer or refuses.
"""

import json
import socket
import sys
import uuid
from urllib.parse import urlparse


def connect(url):
    parsed = urlparse(url)
    sock = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), timeout=5)
    reader = sock.makefile("rb")
    info = reader.readline()
    if not info.startswith(b"INFO "):
        raise OSError(f"not a NATS server: {info[:40]!r}")
    sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":false}\r\n')
    return sock, reader


def request(url, subject, payload=b""):
    """One JetStream API request; returns the decoded JSON reply."""
    sock, reader = connect(url)
    try:
        inbox = "_INBOX." + uuid.uuid4().hex
        sock.sendall(
            f"SUB {inbox} 1\r\nPUB {subject} {inbox} {len(payload)}\r\n".encode()
            + payload
            + b"\r\n"
        )
        while True:
            line = reader.readline()
            if not line:
                raise OSError("connection closed before the reply")
            if line.startswith(b"PING"):
                sock.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise OSError(line.decode().strip())
            elif line.startswith(b"MSG "):
                size = int(line.split()[-1])
                body = reader.read(size + 2)[:-2]
                return json.loads(body)
    finally:
        sock.close()


def main(argv):
    if len(argv) >= 2 and argv[0] == "ping":
        try:
            connect(argv[1])[0].close()
            return 0
        except OSError:
            return 1
    if len(argv) == 3 and argv[0] == "delete":
        try:
            reply = request(argv[1], f"$JS.API.STREAM.DELETE.{argv[2]}")
        except OSError as error:
            print(f"bench_nats: {error}", file=sys.stderr)
            return 1
        if reply.get("success") or reply.get("error", {}).get("err_code") == 10059:  # not found
            return 0
        print(f"bench_nats: {reply.get('error')}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
