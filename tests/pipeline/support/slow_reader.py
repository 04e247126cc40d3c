"""A WebSocket client that stops reading: a real socket-level slow consumer for flow-control tests.

Usage: slow_reader.py PORT PATH FIRST_MESSAGE_JSON THEN_MESSAGE_JSON REPEATED_MESSAGE_JSON COUNT
Sends FIRST_MESSAGE, reads the first reply, sends THEN_MESSAGE once and REPEATED_MESSAGE COUNT times
(every 0.25 s, so the server does not see an idle client) without reading anything, then reads until
the server drops the connection. Prints one JSON line:
{"closed": bool, "close_code": int|null}.
"""
import base64
import json
import os
import socket
import struct
import sys
import time


def frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    else:
        header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_code(data: bytes):
    offset = 0
    while offset + 2 <= len(data):
        opcode = data[offset] & 0x0F
        length = data[offset + 1] & 0x7F
        header = 2
        if length == 126:
            length = struct.unpack(">H", data[offset + 2 : offset + 4])[0]
            header = 4
        elif length == 127:
            length = struct.unpack(">Q", data[offset + 2 : offset + 10])[0]
            header = 10
        if opcode == 0x8 and length >= 2:
            return struct.unpack(">H", data[offset + header : offset + header + 2])[0]
        offset += header + length
    return None


def main() -> None:
    port, path, first, then, repeated, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive window makes the server's backlog grow after little data.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    sock.sendall(frame(first))
    time.sleep(0.5)
    sock.sendall(frame(then))
    for _ in range(count):
        try:
            sock.sendall(frame(repeated))
        except OSError:
            break
        time.sleep(0.25)
    received = b""
    closed = False
    sock.settimeout(20)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            received += chunk
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    body = received.split(b"\r\n\r\n", 1)[-1]
    print(json.dumps({"closed": closed, "close_code": close_code(body)}))


main()
