#!/usr/bin/env python3
"""Hostile clients against a running `trellis serve`, with a probe that measures
what a well-behaved client sees meanwhile (docs/security.md, "HTTP limits").

  hostile_clients.py --port N [--slow 32] [--busy 40] [--seconds 15] [--token T]

--slow: connections sending one header line a second and never finishing
(slowloris); --busy: keep-alive clients POSTing one event after another as fast
as they are answered. The probe opens a fresh connection every 100 ms for
GET /healthz and GET /v1/flows and reports their latency (p50, p99, max) and
statuses; the busy clients' statuses are counted too (503: refused when full).
Standard library only.
"""
import argparse
import http.client
import json
import socket
import threading
import time
from collections import Counter


def slowloris(port, stop, cut):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /v1/flows HTTP/1.1\r\nHost: x\r\n")
        i = 0
        while not stop.is_set():
            time.sleep(1)
            s.sendall(b"X-Slow-%d: 1\r\n" % i)
            i += 1
    except OSError:
        cut.append(1)  # the server closed it: the header deadline worked


def busy(port, token, stop, statuses, n):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn = None
    i = 0
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            body = json.dumps({"id": f"b{n}-{i}", "type": "page_view", "user_id": f"u{n}"})
            conn.request("POST", "/v1/events", body, headers)
            r = conn.getresponse()
            r.read()
            statuses[r.status] += 1
            if r.getheader("Connection", "") == "close":
                conn.close()
                conn = None
        except OSError:
            statuses["error"] += 1
            conn = None
        i += 1


def probe(port, token, stop, results):
    headers = {"Authorization": "Bearer " + token} if token else {}
    while not stop.is_set():
        for path in ("/healthz", "/v1/flows"):
            start = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request("GET", path, headers=headers)
                r = c.getresponse()
                r.read()
                c.close()
                status = r.status
            except OSError:
                status = "error"
            results.append((path, status, time.monotonic() - start))
        time.sleep(0.1)


def summary(values):
    if not values:
        return "none"
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000
    return f"n={len(values)} p50={pick(0.5):.1f}ms p99={pick(0.99):.1f}ms max={values[-1]*1000:.1f}ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--slow", type=int, default=32)
    ap.add_argument("--busy", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--token", default="")
    a = ap.parse_args()
    stop = threading.Event()
    cut, statuses, results = [], Counter(), []
    threads = [threading.Thread(target=slowloris, args=(a.port, stop, cut)) for _ in range(a.slow)]
    threads += [threading.Thread(target=busy, args=(a.port, a.token, stop, statuses, n))
                for n in range(a.busy)]
    threads.append(threading.Thread(target=probe, args=(a.port, a.token, stop, results)))
    for t in threads:
        t.daemon = True
        t.start()
    time.sleep(a.seconds)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    for path in ("/healthz", "/v1/flows"):
        mine = [r for r in results if r[0] == path]
        ok = [r[2] for r in mine if r[1] == 200]
        print(f"probe {path}: {summary(ok)}; statuses {dict(Counter(r[1] for r in mine))}")
    total = sum(v for k, v in statuses.items())
    print(f"busy clients: {total} requests, {total / a.seconds:.0f}/s; statuses {dict(statuses)}")
    print(f"slow clients cut off by the server: {len(cut)} of {a.slow}")


if __name__ == "__main__":
    main()
