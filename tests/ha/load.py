#!/usr/bin/env python3
"""The steady load of make test-ha (tests/ha/run.sh), and its checks.

Per replica: a document writer on shared keys, an enqueuer, a claimer that
acks what it claims, an sql inserter, and a long-poll claimer parked on a
queue of its own. One changes-feed reader follows with since=next. Every
answer is recorded (start, end, replica, status). run.sh appends a line
"<time> <n> <kind>" to $HA_DIR/failovers just before each failover; this
program then waits for both replicas to answer 2xx again, writes
"recovered <n>" to $HA_DIR/load.events, and enqueues what the parked
claimers must receive. On "<time> end" it stops and checks:
  - every write answered 2xx is in the database (documents, enqueues, acks,
    sql rows), read back through the service on the new primary;
  - no queue item was claimed again while an earlier claim of it was live;
  - no item was acked twice;
  - the feed reader saw every version exactly once;
  - each failover's parked claimers (parked before it) were woken by the
    item enqueued after it;
  - no answer was a 5xx other than 503, and every 503 had Retry-After.
Prints each failover's unavailability window per replica: from the first
failed request to the first 2xx after it. Exits 1 when a check fails.
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HA_DIR = os.environ["HA_DIR"]
TOKEN = os.environ["TOKEN"]
URLS = os.environ["URLS"].split()
VISIBILITY = 60  # a claim's visibility timeout, longer than the whole run
stop = threading.Event()
lock = threading.Lock()
records = []  # (start, end, replica, kind, status, retry_after)
problems = []


def request(replica, method, path, body=None, timeout=40, kind=None):
    """One request; records it. Returns (status, parsed JSON or None)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(URLS[replica] + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    t0 = time.time()
    status, payload, retry = 0, None, None
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text, retry = e.code, e.read(), e.headers.get("Retry-After")
    except Exception as e:  # the service must never drop a connection
        status, text = -1, str(e).encode()
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = None
    with lock:
        records.append((t0, time.time(), replica, kind or method, status, retry))
    return status, payload


def pause_after(status):
    """A client's pause: honour Retry-After on a 503, else a small one."""
    time.sleep(1.0 if status == 503 else 0.05 if status < 0 else 0.02)


acked_docs = set()  # (key, version) answered 2xx
def doc_writer(r):
    n = 0
    while not stop.is_set():
        n += 1
        key = "k%d" % (n % 4)
        st, body = request(r, "PUT", "/document/ha-doc/" + key, {"r": r, "n": n}, kind="doc")
        if 200 <= st < 300 and body:
            with lock:
                acked_docs.add((key, body.get("version")))
        pause_after(st)


enqueued = set()
def enqueuer(r):
    n = 0
    while not stop.is_set():
        n += 1
        st, body = request(r, "POST", "/queue/ha-q", {"payload": {"r": r, "n": n}}, kind="enqueue")
        if 200 <= st < 300 and body:
            with lock:
                enqueued.add(body["id"] if "id" in body else body["items"][0]["id"])
        pause_after(st)


claims = []  # (time answered, id, token)
acks = []  # (time answered, id) of 2xx acks
ack_unsure = set()  # ids whose ack answered 503 once (it may have committed)
def claimer(r):
    while not stop.is_set():
        st, body = request(r, "POST", "/queue/ha-q/claim",
                           {"max": 5, "visibility_timeout_seconds": VISIBILITY, "wait_seconds": 2}, kind="claim")
        if not (200 <= st < 300):
            pause_after(st)
            continue
        got = time.time()
        for it in body["items"]:
            with lock:
                claims.append((got, it["id"], it["claim_token"]))
            while not stop.is_set():
                st2, _ = request(r, "DELETE", "/queue/ha-q/%d?claim_token=%s" % (it["id"], it["claim_token"]),
                                 kind="ack")
                if 200 <= st2 < 300:
                    with lock:
                        acks.append((time.time(), it["id"]))
                else:
                    with lock:  # committed or not: its answer was lost
                        ack_unsure.add(it["id"])
                if st2 != 503 and st2 >= 0:
                    break  # acked, or the claim is gone (its item is still there or acked)
                pause_after(st2)


inserted = set()
def inserter(r):
    n = 0
    while not stop.is_set():
        n += 1
        v = "r%d-%d" % (r, n)
        st, _ = request(r, "POST", "/sql/tables/ha_rows/rows", {"v": v}, kind="sql")
        if 200 <= st < 300:
            with lock:
                inserted.add(v)
        pause_after(st)


seen = []  # (key, version) in the order the reader saw them
def feed_reader(since="0", wait=5, until_empty=False):
    r = 0
    while True:
        if stop.is_set() and not until_empty:
            return since
        st, body = request(r, "GET", "/document/ha-doc/_changes?since=%s&limit=1000&wait_seconds=%d" % (since, wait),
                           kind="feed", timeout=wait + 30)
        if not (200 <= st < 300):
            r = 1 - r  # a reader fails over to the other replica too
            pause_after(st)
            continue
        with lock:
            seen.extend((it["key"], it["version"]) for it in body["items"])
        since = str(body["next"])
        if until_empty and not body["items"]:
            return since


parked = {}  # failover n -> [(replica, start, end, status, payload ns item)]
def park(n, r):
    """A long-poll claimer parked before failover n: it must be answered with
    the item enqueued after the failover, and never 503 (a lost wake-up).
    A wait that ran out (200, no item) parks again."""
    while True:
        t0 = time.time()
        st, body = request(r, "POST", "/queue/ha-park-%d-%d/claim" % (n, r),
                           {"max": 1, "visibility_timeout_seconds": VISIBILITY, "wait_seconds": 20}, timeout=60,
                           kind="park")
        with lock:
            parked.setdefault(n, []).append((r, t0, time.time(), st, body))
        if st != 200 or (body or {}).get("items"):
            return


def all_up():
    """Both replicas answer a write 2xx."""
    return all(200 <= request(r, "PUT", "/document/ha-probe/p", {"t": time.time()}, kind="probe")[0] < 300
               for r in range(len(URLS)))


def watch_failovers():
    """Follows run.sh's failover marks: parks, waits for recovery, wakes."""
    done = 0
    while True:
        lines = open(os.path.join(HA_DIR, "failovers")).read().split("\n")
        marks = [l.split() for l in lines if l.strip()]
        if len(marks) > done:
            t, *rest = marks[done]
            done += 1
            if rest[0] == "end":
                return
            n = int(rest[0])
            parkers = [threading.Thread(target=park, args=(n, r)) for r in range(len(URLS))]
            for p in parkers:
                p.start()
            time.sleep(3)  # the failover itself starts 1.5 s after the mark
            give_up = time.time() + 120
            while not all_up():
                if time.time() > give_up:
                    problems.append("failover %d: the service did not recover in 120 s" % n)
                    break
                time.sleep(0.2)
            with open(os.path.join(HA_DIR, "load.events"), "a") as f:
                f.write("recovered %d\n" % n)
            for r in range(len(URLS)):
                while not 200 <= request(r, "POST", "/queue/ha-park-%d-%d" % (n, r), {"payload": {"after": n}},
                                         kind="wake")[0] < 300:
                    time.sleep(0.5)
            for p in parkers:
                p.join()
        time.sleep(0.2)


def psql(sql):
    out = subprocess.run(["psql", "-XAtq", os.environ["DATABASE_URL"], "-c", sql], capture_output=True, text=True,
                         check=True)
    return [l for l in out.stdout.split("\n") if l]


def check_queue():
    left = {int(x) for x in psql("SELECT id FROM queue_items WHERE namespace = 'ha-q'")}
    acked = [i for _, i in acks]
    if len(acked) != len(set(acked)):
        problems.append("an item was acked twice")
    lost = enqueued - left - set(acked) - ack_unsure
    if lost:
        problems.append("%d enqueued items neither acked nor in the queue: %s" % (len(lost), sorted(lost)[:10]))
    ack_at = {i: t for t, i in acks}
    by_id = {}
    for t, i, tok in sorted(claims):
        by_id.setdefault(i, []).append(t)
    for i, ts in by_id.items():
        for a, b in zip(ts, ts[1:]):
            # claimed again while the earlier claim was live and not acked
            if b - a < VISIBILITY and not (i in ack_at and ack_at[i] <= b):
                problems.append("item %d claimed twice within its visibility timeout" % i)
    return len(enqueued), len(set(acked)), len(ack_unsure - set(acked)), len(left)


def check_docs_and_feed(final_since):
    final = []
    since = "0"
    while True:
        st, body = request(0, "GET", "/document/ha-doc/_changes?since=%s&limit=1000" % since, kind="final")
        if st != 200:
            problems.append("the final feed read answered %d" % st)
            break
        final.extend((it["key"], it["version"]) for it in body["items"])
        if not body["items"]:
            break
        since = str(body["next"])
    missing = acked_docs - set(final)
    if missing:
        problems.append("%d document versions answered 2xx are missing: %s" % (len(missing), sorted(missing)[:10]))
    if len(seen) != len(set(seen)):
        problems.append("the feed reader saw %d duplicates" % (len(seen) - len(set(seen))))
    gap = set(final) - set(seen)
    if gap:
        problems.append("the feed reader missed %d versions: %s" % (len(gap), sorted(gap)[:10]))
    return len(acked_docs), len(final), len(seen)


def check_sql():
    rows = set()
    q = "/sql/tables/ha_rows/rows?limit=1000"
    while True:
        st, body = request(0, "GET", q, kind="final")
        if st != 200:
            problems.append("reading the sql rows answered %d: %s" % (st, body))
            break
        rows.update(x["v"] for x in body["items"])
        if not body.get("next") or not body["items"]:
            break
        q = "/sql/tables/ha_rows/rows?limit=1000&after=%s" % body["next"]
    lost = inserted - rows
    if lost:
        problems.append("%d sql rows answered 2xx are missing: %s" % (len(lost), sorted(lost)[:10]))
    return len(inserted), len(rows)


def windows():
    """Per failover and replica: the first failure seen after the mark to the
    first 2xx answer of a request sent after it."""
    marks = [l.split() for l in open(os.path.join(HA_DIR, "failovers")).read().split("\n") if l.strip()]
    out = []
    for (t, *rest), nxt in zip(marks, marks[1:]):
        t0, t1 = float(t), float(nxt[0])
        for r in range(len(URLS)):
            rec = sorted(x for x in records if x[2] == r and t0 <= x[0] < t1 and x[3] not in ("park", "final"))
            fail = next((x for x in rec if not 200 <= x[4] < 300), None)
            if fail is None:
                out.append((rest[0], rest[1], r, 0.0))
                continue
            # From the first failure seen to the first 2xx of a request
            # sent after it.
            ok = [x for x in rec if x[0] >= fail[1] and 200 <= x[4] < 300]
            if not ok:
                problems.append("replica %d did not recover after failover %s" % (r, rest[0]))
                continue
            out.append((rest[0], rest[1], r, min(x[1] for x in ok) - fail[1]))
    return out


def main():
    st, body = request(0, "POST", "/sql/tables", {"name": "ha_rows", "columns": [{"name": "v", "type": "text"}]})
    if st not in (200, 201):
        print("cannot create the sql table: %d %s" % (st, body))
        return 1
    workers = []
    for r in range(len(URLS)):
        for fn in (doc_writer, enqueuer, claimer, inserter):
            workers.append(threading.Thread(target=fn, args=(r,)))
    feed = {}
    workers.append(threading.Thread(target=lambda: feed.setdefault("since", feed_reader())))
    for w in workers:
        w.start()
    watch_failovers()
    stop.set()
    for w in workers:
        w.join()
    feed_reader(feed.get("since", "0"), wait=0, until_empty=True)
    docs = check_docs_and_feed(feed.get("since"))
    queue = check_queue()
    rows = check_sql()
    for n, ps in sorted(parked.items()):
        for r, t0, t1, st, body in ps:
            items = (body or {}).get("items")
            if st != 200 or (items and items[0].get("payload") != {"after": n}):
                problems.append("failover %d: the claimer parked on replica %d was answered %d %s" % (n, r, st, body))
        for r in range(len(URLS)):
            last = [p for p in ps if p[0] == r][-1:]
            if not last or not (last[0][4] or {}).get("items"):
                problems.append("failover %d: the claimer parked on replica %d never got its item" % (n, r + 1))
    bad = [x for x in records if x[4] >= 500 and x[4] != 503 or x[4] < 0]
    for x in bad[:10]:
        problems.append("replica %d %s answered %d" % (x[2], x[3], x[4]))
    no_retry = [x for x in records if x[4] == 503 and not x[5]]
    if no_retry:
        problems.append("%d answers 503 without Retry-After" % len(no_retry))
    n503 = sum(1 for x in records if x[4] == 503)
    print("# requests: %d, of which 503: %d, other failures: %d" % (len(records), n503, len(bad)))
    print("# documents: %d versions answered 2xx, %d in the feed, %d seen by the reader" % docs)
    print("# queue: %d enqueued 2xx, %d acked 2xx, %d acks answered 503 (then 404: committed), %d left" % queue)
    print("# sql: %d rows answered 2xx, %d in the table" % rows)
    ws = windows()
    for n, kind, r, w in ws:
        print("# failover %s (%s): replica %d unavailable %.2f s" % (n, kind, r + 1, w))
    for n in sorted({x[0] for x in ws}):
        if all(w == 0 for m, _, _, w in ws if m == n):
            problems.append("failover %s: no replica saw it (no failed answer): the load missed it" % n)
    if ws:
        vals = [w for *_, w in ws]
        print("# window: median %.2f s, max %.2f s" % (statistics.median(vals), max(vals)))
    for p in problems:
        print("not ok: " + p)
    print("ok: every check passed" if not problems else "FAILED: %d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
