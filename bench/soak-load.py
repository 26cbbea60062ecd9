"""soak-load.py: the load generators of bench/soak, one mode per process.

  python3 soak-load.py http   DIR PORT CLIENTS RATE
  python3 soak-load.py storm  DIR PORT MASTER_PID GAP_S MAX_KILLS
  python3 soak-load.py reload DIR PORT MASTER_PID GAP_S

Each runs until SIGTERM and keeps DIR/MODE.stats up to date (one line of
key=value pairs, replaced by rename, so the driver never reads half a line).
Standard library only.

http    CLIENTS threads, each with one keep-alive connection, each paced at
        RATE requests/s, cycling through GET /status, /health, /metrics,
        /workers, /queues/q, POST /queues/q/tasks (a task with a key, as
        soak-producer's; the key is appended to DIR/confirmed only after a
        202 came back) and four bad requests that must get their 4xx.  An
        answer with another status, or a connection that fails on a fresh
        connect, is an error; the first errors are printed to stderr.  A
        keep-alive connection the server closed is reopened and the request
        sent again (counted as a reconnect); a POST is not sent again.
storm   every GAP_S seconds SIGKILLs 1 to MAX_KILLS instances picked at random
        among those GET /status shows with a pid, after checking that the
        pid's command line names DIR's parent (the bench's temporary
        directory) and is not the master: nothing else can be hit.
reload  every GAP_S seconds copies DIR/plba-a.yml or DIR/plba-b.yml, in
        turn, over DIR/plba.yml (the file the master reads) and sends SIGHUP
        to the master; then polls GET /workers (10 s deadline) until the
        reloaded set is the one of the new file: reloads= and applied=.
"""
import http.client
import json
import os
import random
import signal
import sys
import threading
import time

running = True


def on_term(signum, frame):
    global running
    running = False


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


def write_stats(d, mode, fields):
    path = os.path.join(d, mode + ".stats")
    with open(path + ".tmp", "w") as f:
        f.write(" ".join("%s=%s" % kv for kv in fields.items()) + "\n")
    os.rename(path + ".tmp", path)


def pause(seconds):
    """Sleeps up to seconds, returning early once SIGTERM came."""
    end = time.monotonic() + seconds
    while running:
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.1))


def get_json(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError("GET %s: %d" % (path, r.status))
        return json.loads(body)
    finally:
        c.close()


# ---- http -------------------------------------------------------------------

def http_mode(d, port, clients, rate):
    lock = threading.Lock()
    st = {"done": 0, "errors": 0, "reconnects": 0, "posted": 0, "full": 0}
    fd = os.open(os.path.join(d, "confirmed"),
                 os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    shown = [0]

    def bump(key, n=1):
        with lock:
            st[key] += n

    def error(what):
        bump("errors")
        with lock:
            shown[0] += 1
            if shown[0] <= 20:
                sys.stderr.write("soak-load http: %s\n" % what)
                sys.stderr.flush()

    def client(tid):
        n = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        fresh = True
        gap = 1.0 / rate
        due = time.monotonic()
        step = 0
        while running:
            step += 1
            kind = step % 10
            key = None
            if kind == 0:
                req = ("GET", "/status", None, (200,))
            elif kind == 1:
                req = ("GET", "/health", None, (200, 503))
            elif kind == 2:
                req = ("GET", "/metrics", None, (200,))
            elif kind == 3:
                req = ("GET", "/workers", None, (200,))
            elif kind == 4:
                req = ("GET", "/queues/q", None, (200,))
            elif kind in (5, 6):
                key = "h%d-%d-%d" % (os.getpid(), tid, n)
                n += 1
                body = json.dumps({"name": "h", "payload": {"k": key}})
                req = ("POST", "/queues/q/tasks", body, (202, 503))
            elif kind == 7:
                req = ("GET", "/no/such/thing", None, (404,))
            elif kind == 8:
                req = ("POST", "/queues/q/tasks", "{not json", (400,))
            else:
                req = ("DELETE", "/status", None, (405,)) if step % 20 == 9 \
                    else ("POST", "/queues/nope/tasks", '{"name":"x"}', (404,))
            method, path, body, ok = req
            hdrs = {"Content-Type": "application/json"} if body else {}
            if kind == 5:
                # Half the tasks carry a trace: the master's spans, and
                # the consumer's, flow through the exporters the reloads
                # keep replacing.
                hdrs["traceparent"] = "00-%032x-%016x-01" % (
                    random.getrandbits(128) | 1, random.getrandbits(64) | 1)
            for attempt in (1, 2):
                try:
                    conn.request(method, path, body=body, headers=hdrs)
                    r = conn.getresponse()
                    r.read()
                    fresh = False
                    if r.status not in ok:
                        error("%s %s: %d" % (method, path, r.status))
                    elif key is not None and r.status == 202:
                        os.write(fd, (key + "\n").encode())
                        bump("posted")
                    elif key is not None:
                        bump("full")
                    bump("done")
                    break
                except (http.client.HTTPException, OSError) as e:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port,
                                                      timeout=10)
                    was_fresh = fresh
                    fresh = True
                    # A keep-alive connection the server closed: send the
                    # request again on a new one, unless it was a POST
                    # that may have been carried out.
                    if not was_fresh and attempt == 1 and method == "GET":
                        bump("reconnects")
                        continue
                    if not was_fresh and method != "GET":
                        bump("reconnects")
                        break
                    error("%s %s: %s" % (method, path, e))
                    pause(0.2)
                    break
            due += gap
            wait = due - time.monotonic()
            if wait > 0:
                pause(wait)
            else:
                due = time.monotonic()
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(clients)]
    for t in threads:
        t.start()
    while running:
        with lock:
            write_stats(d, "http", dict(st))
        pause(1)
    for t in threads:
        t.join(15)
    with lock:
        write_stats(d, "http", dict(st))


# ---- storm ------------------------------------------------------------------

def ours(pid, tmp, master):
    if pid == master or pid == os.getpid():
        return False
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().decode(errors="replace")
    except OSError:
        return False
    return tmp + "/" in cmd


def storm_mode(d, port, master, gap, most):
    tmp = os.path.dirname(os.path.abspath(d))
    st = {"storms": 0, "kills": 0, "status_errors": 0}
    write_stats(d, "storm", st)
    while running:
        pause(gap)
        if not running:
            break
        try:
            s = get_json(port, "/status")
        except Exception as e:
            st["status_errors"] += 1
            sys.stderr.write("soak-load storm: GET /status: %s\n" % e)
            continue
        pids = [i["pid"] for i in s.get("instances", [])
                if isinstance(i.get("pid"), int)]
        pids = [p for p in pids if ours(p, tmp, master)]
        if not pids:
            continue
        st["storms"] += 1
        for p in random.sample(pids, min(len(pids), random.randint(1, most))):
            try:
                os.kill(p, signal.SIGKILL)
                st["kills"] += 1
            except ProcessLookupError:
                pass
        write_stats(d, "storm", st)
    write_stats(d, "storm", st)


# ---- reload -----------------------------------------------------------------

def worker_set(path):
    """{worker: concurrency} of a config written by bench/soak (flat keys)."""
    want, name = {}, None
    with open(path) as f:
        for line in f:
            s = line.rstrip()
            if s.startswith("  ") and not s.startswith("   ") and s.endswith(":"):
                name = s.strip()[:-1]
                want[name] = 1
            elif s.strip().startswith("concurrency:") and name:
                want[name] = int(s.split(":")[1])
            elif not s.startswith(" "):
                name = None
                if s.startswith("workers:"):
                    want = {}
    return want


def reload_mode(d, port, master, gap):
    st = {"reloads": 0, "applied": 0, "late": 0, "config": "a"}
    write_stats(d, "reload", st)
    which = "a"
    while running:
        pause(gap)
        if not running:
            break
        which = "b" if which == "a" else "a"
        src = os.path.join(d, "plba-%s.yml" % which)
        dst = os.path.join(d, "plba.yml")
        with open(src) as f:
            text = f.read()
        with open(dst + ".tmp", "w") as f:
            f.write(text)
        os.rename(dst + ".tmp", dst)
        os.kill(master, signal.SIGHUP)
        st["reloads"] += 1
        st["config"] = which
        want = worker_set(src)
        end = time.monotonic() + 10
        applied = False
        while running and time.monotonic() < end:
            try:
                ws = get_json(port, "/workers")
                have = {k: v.get("concurrency") for k, v in ws.items()}
                if have == want:
                    applied = True
                    break
            except Exception:
                pass
            pause(0.1)
        if applied:
            st["applied"] += 1
        elif running:
            st["late"] += 1
            sys.stderr.write("soak-load reload: %s not applied within 10 s\n"
                             % which)
        write_stats(d, "reload", st)
    write_stats(d, "reload", st)


def main():
    a = sys.argv[1:]
    try:
        if a[0] == "http" and len(a) == 5:
            http_mode(a[1], int(a[2]), int(a[3]), float(a[4]))
        elif a[0] == "storm" and len(a) == 6:
            storm_mode(a[1], int(a[2]), int(a[3]), float(a[4]), int(a[5]))
        elif a[0] == "reload" and len(a) == 5:
            reload_mode(a[1], int(a[2]), int(a[3]), float(a[4]))
        else:
            raise IndexError
    except (IndexError, ValueError):
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
