#!/usr/bin/env python3
"""Times nsqlookupd's /nodes and /lookup against a real binary (ours or Go's).

For each size it starts a fresh nsqlookupd on free loopback ports, registers TOPICS topics from
PRODUCERS V1 connections (each producer registers every topic, pipelined: one big write of
REGISTER lines, then the OK replies are read), and measures over fresh HTTP connections, as
clients poll:
  - GET /lookup?topic=<one topic>: median and p99 of --lookup-runs requests;
  - GET /nodes: wall time until the whole body is read (median of --nodes-runs);
  - GET /ping while /nodes is being answered: the slowest ping, which shows whether a big /nodes
    keeps the event loop (and so registrations) waiting.

  lookupd/bench/lookupd_bench.py build/lookupd/nsqlookupd --sizes 10000,20000,100000

A /nodes that does not answer within --timeout seconds is reported as "> timeout" (the daemon is
then killed). Prints one markdown table.
"""
import argparse
import http.client
import json
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, deadline):
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def read_exact(sock, n):
    chunks = []
    while n > 0:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise RuntimeError("nsqlookupd closed the registration connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def register(tcp_port, index, topics):
    """One nsqd-like V1 connection: IDENTIFY, then every topic pipelined. Kept open."""
    sock = socket.create_connection(("127.0.0.1", tcp_port))
    body = json.dumps({"broadcast_address": f"node{index}", "hostname": f"node{index}",
                       "tcp_port": 4150 + index, "http_port": 5150 + index,
                       "version": "1.3.0"}).encode()
    sock.sendall(b"  V1IDENTIFY\n" + struct.pack(">i", len(body)) + body)
    size = struct.unpack(">I", read_exact(sock, 4))[0]
    read_exact(sock, size)
    lines = b"".join(f"REGISTER {t}\n".encode() for t in topics)
    sender = threading.Thread(target=sock.sendall, args=(lines,))
    sender.start()
    replies = read_exact(sock, 6 * len(topics))  # [00 00 00 02]OK per command
    sender.join()
    if replies != b"\x00\x00\x00\x02OK" * len(topics):
        raise RuntimeError("a REGISTER was not answered OK")
    return sock


def get(port, target, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        body = response.read()
        return response.status, body
    finally:
        conn.close()


def timed_get(port, target, timeout):
    start = time.perf_counter()
    status, body = get(port, target, timeout)
    return time.perf_counter() - start, status, body


def measure(binary, topics_count, producers, args):
    tcp_port, http_port = free_port(), free_port()
    daemon = subprocess.Popen([binary, f"--tcp-address=127.0.0.1:{tcp_port}",
                               f"--http-address=127.0.0.1:{http_port}", "--log-level=warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not (wait_listening(tcp_port, time.monotonic() + 10) and
                wait_listening(http_port, time.monotonic() + 10)):
            raise RuntimeError("nsqlookupd did not start")
        topics = [f"topic_{i:06d}" for i in range(topics_count)]
        start = time.perf_counter()
        conns = [register(tcp_port, i, topics) for i in range(producers)]
        register_seconds = time.perf_counter() - start

        lookup_times = []
        for i in range(args.lookup_runs):
            topic = topics[i * 7919 % topics_count]
            seconds, status, body = timed_get(http_port, f"/lookup?topic={topic}", args.timeout)
            if status != 200 or len(json.loads(body)["producers"]) != producers:
                raise RuntimeError("/lookup did not list every producer")
            lookup_times.append(seconds)
        lookup_times.sort()
        nodes_times, worst_ping, nodes_bytes = [], 0.0, 0
        for _ in range(args.nodes_runs):
            done = threading.Event()
            pings = []

            def pinger():
                while not done.is_set():
                    try:
                        seconds, _, _ = timed_get(http_port, "/ping", args.timeout)
                    except (socket.timeout, TimeoutError):
                        seconds = args.timeout
                    pings.append(seconds)

            # Let /nodes start first, then ping until it is answered.
            result = {}

            def nodes():
                try:
                    result["value"] = timed_get(http_port, "/nodes", args.timeout)
                except (socket.timeout, TimeoutError):
                    result["value"] = None
                done.set()

            nodes_thread = threading.Thread(target=nodes)
            nodes_thread.start()
            time.sleep(0.005)
            ping_thread = threading.Thread(target=pinger)
            ping_thread.start()
            nodes_thread.join()
            ping_thread.join(timeout=args.timeout)
            if result["value"] is None:
                return {"register": register_seconds, "nodes": None,
                        "lookup_median": statistics.median(lookup_times),
                        "lookup_p99": lookup_times[int(len(lookup_times) * 0.99) - 1]}
            seconds, status, body = result["value"]
            document = json.loads(body)
            listed = sum(len(p["topics"]) for p in document["producers"])
            if status != 200 or listed != topics_count * producers:
                raise RuntimeError(f"/nodes listed {listed} topics, status {status}")
            nodes_times.append(seconds)
            nodes_bytes = len(body)
            if pings:
                worst_ping = max(worst_ping, max(pings))

        for conn in conns:
            conn.close()
        return {"register": register_seconds, "nodes": statistics.median(nodes_times),
                "nodes_bytes": nodes_bytes, "ping": worst_ping,
                "lookup_median": statistics.median(lookup_times),
                "lookup_p99": lookup_times[int(len(lookup_times) * 0.99) - 1]}
    finally:
        daemon.kill()
        daemon.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--sizes", default="10000,20000,100000", help="topics per run")
    parser.add_argument("--producers", type=int, default=10)
    parser.add_argument("--nodes-runs", type=int, default=3)
    parser.add_argument("--lookup-runs", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    args = parser.parse_args()

    print(f"| topics × producers | register (s) | /nodes (s) | /nodes body (MB) | slowest /ping "
          f"during /nodes (ms) | /lookup median (ms) | /lookup p99 (ms) |")
    print("|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(args.binary, size, args.producers, args)
        label = f"{size:,} × {args.producers}"
        if r["nodes"] is None:
            print(f"| {label} | {r['register']:.2f} | > {args.timeout:.0f} (no answer) | | "
                  f"> {args.timeout * 1e3:.0f} | {r['lookup_median'] * 1e3:.2f} "
                  f"| {r['lookup_p99'] * 1e3:.2f} |")
            sys.stdout.flush()
            continue
        print(f"| {label} | {r['register']:.2f} | {r['nodes']:.3f} | {r['nodes_bytes'] / 1e6:.1f} "
              f"| {r['ping'] * 1e3:.1f} | {r['lookup_median'] * 1e3:.2f} "
              f"| {r['lookup_p99'] * 1e3:.2f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
