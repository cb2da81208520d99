#!/usr/bin/env python3
"""A day of a small web shop, sent to Trellis the way a tracking source would:
sign-ups, profile updates, page and product views, carts and payments, posted in
batches to POST /v1/events, then a report of what the flows did with them.

    python3 shop_day.py [BASE_URL]        # default http://127.0.0.1:8080

Run it against `bash scripts/serve.sh` (the example flows of flows/). Only the
standard library is used. Events carry their own `time` (this day, 2026-03-02);
waits count from when Trellis applies them, so 72-hour reminders are armed now.
"""
import json
import sys
import urllib.error
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
DAY = "2026-03-02"

# (time of day, user, type, properties): the day as a tracking source saw it.
SHOPPERS = {
    "mia": {"first_name": "Mia", "email": "mia@example.com", "age": 36,
            "interests": ["education", "books"], "paid": False, "timezone": "Europe/Berlin"},
    "noah": {"first_name": "Noah", "email": "noah@example.com", "phone": "+4915100000002",
             "age": 27, "timezone": "Europe/Berlin"},
    "olga": {"first_name": "Olga", "email": "olga@example.com", "age": 52,
             "timezone": "America/New_York"},
}
DAY_OF_EVENTS = [
    ("07:58", "mia", "page_viewed", {"path": "/", "referrer": "newsletter"}),
    ("08:02", "mia", "signed_up", {"plan": "free"}),
    ("08:05", "mia", "product_viewed", {"product_id": "bk-204", "price": 39.0, "title": "Exam prep, vol. 2"}),
    ("08:07", "mia", "add_to_cart", {"cart_id": "c-mia-1", "value": 39.0, "items": 1}),
    ("09:40", "noah", "page_viewed", {"path": "/sale"}),
    ("09:41", "noah", "product_viewed", {"product_id": "sh-11", "price": 89.9, "title": "Trail shoes"}),
    ("09:45", "noah", "add_to_cart", {"cart_id": "c-noah-1", "value": 89.9, "items": 1}),
    ("09:52", "noah", "order_paid", {"cart_id": "c-noah-1", "order_id": "o-1001", "total": 89.9}),
    ("12:15", "olga", "page_viewed", {"path": "/kitchen"}),
    ("12:20", "olga", "add_to_cart", {"cart_id": "c-olga-1", "value": 12.5, "items": 2}),
    ("12:31", "olga", "add_to_cart", {"cart_id": "c-olga-2", "value": 140.0, "items": 1}),
    ("18:03", "mia", "page_viewed", {"path": "/cart"}),
    ("21:30", "noah", "product_viewed", {"product_id": "sh-12", "price": 24.0, "title": "Socks"}),
]


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path}: {error.code} {error.read().decode()}")


def events():
    """Profiles first (identify), then the day in order, in the Trellis form."""
    out = [{"id": f"id-{user}", "type": "identify", "user_id": user, "time": f"{DAY}T07:00:00Z",
            "properties": traits} for user, traits in SHOPPERS.items()]
    for n, (clock, user, kind, properties) in enumerate(DAY_OF_EVENTS):
        out.append({"id": f"{DAY}-{n:04d}", "type": kind, "user_id": user,
                    "time": f"{DAY}T{clock}:00Z", "properties": properties})
    return out


def main():
    batch = events()
    # A source sends in small batches; each batch is all or nothing, one commit.
    total = {"accepted": 0, "duplicates": 0, "journeys_started": 0}
    for start in range(0, len(batch), 5):
        answer = call("POST", "/v1/events", batch[start:start + 5])
        for key in total:
            total[key] += answer[key]
    print(f"posted {len(batch)} events: {total['accepted']} accepted, "
          f"{total['duplicates']} duplicates, {total['journeys_started']} journeys started")
    # Sending the same batch again changes nothing: the ids were seen.
    again = call("POST", "/v1/events", batch[:5])
    print(f"resent 5: {again['accepted']} accepted, {again['duplicates']} duplicates")

    print("\nflows:")
    for flow in call("GET", "/v1/flows")["flows"]:
        if flow["journeys"]:
            print(f"  {flow['name']:<20} {flow['journeys']} journeys, {flow['live']} live, "
                  f"{flow['conversions']} conversions")

    print("\njourneys:")
    for user in SHOPPERS:
        for j in call("GET", f"/v1/users/{user}/journeys")["journeys"]:
            detail = call("GET", f"/v1/journeys/{j['id']}")
            last = detail["steps"][-1]["reason"] if detail["steps"] else ""
            key = f" [{j['key']}]" if j.get("key") else ""
            print(f"  {user:<5} {j['flow']}{key}: {j['state']} at {j['node']} — {last}")

    print("\nmessages so far:")
    for d in call("GET", "/v1/deliveries")["deliveries"]:
        what = d.get("subject") or d["body"]
        print(f"  {d['channel']:<6} {d['user_id']:<5} {d['status']:<8} {what}")


if __name__ == "__main__":
    main()
