"""Writes test mails into a maildir's new/ directory.

    mails.py MAILDIR COUNT [--bad-every N] [--first K] [--expect FILE]

Mail i (K <= i < K + COUNT) orders "order: SKU x QTY" lines; when
--bad-every N is given, every mail with i % N == N - 1 is malformed in
one of three ways (no order line, a quantity of 0, no Message-ID).
--expect appends "good <message-id>" or "bad <message-id> <reason>"
lines, for the test to compare against.
"""
import argparse
import os
import time

SKUS = ["TEA-01", "MUG-02", "BAG-13"]

ap = argparse.ArgumentParser()
ap.add_argument("maildir")
ap.add_argument("count", type=int)
ap.add_argument("--bad-every", type=int, default=0)
ap.add_argument("--first", type=int, default=0)
ap.add_argument("--expect")
a = ap.parse_args()

expect = open(a.expect, "a") if a.expect else None
# Mail belongs to whoever owns the maildir (the server's mail user).  Each
# file is given away before it appears in new/: the server renames and
# flags mail in cur/ meanwhile, so nothing may walk the tree afterwards.
owner = os.stat(a.maildir)
stamp = int(time.time())
for i in range(a.first, a.first + a.count):
    mid = "<order-%d@shop.test>" % i
    headers = ["From: Customer %d <c%d@example.org>" % (i, i),
               "To: orders@shop.test",
               "Subject: order %d" % i,
               "Date: Thu, 26 Nov 2026 10:00:00 +0000",
               "Message-ID: " + mid]
    body = ["Hello,", "order: %s x %d" % (SKUS[i % 3], i % 5 + 1),
            "order: %s x 1" % SKUS[(i + 1) % 3], "Thanks"]
    kind = "good"
    if a.bad_every and i % a.bad_every == a.bad_every - 1:
        kind = ("no-lines", "zero", "no-id")[(i // a.bad_every) % 3]
        if kind == "no-lines":
            body = ["Hello,", "please send me some tea.", "Thanks"]
        elif kind == "zero":
            body[1] = "order: TEA-01 x 0"
        else:
            headers = [h for h in headers if not h.startswith("Message-ID")]
    text = "\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(body) + "\r\n"
    name = "%d.M%dP%d.test" % (stamp, i, os.getpid())
    tmp = os.path.join(a.maildir, "tmp", name)
    with open(tmp, "w", newline="") as f:
        f.write(text)
    os.chown(tmp, owner.st_uid, owner.st_gid)
    os.rename(tmp, os.path.join(a.maildir, "new", name))
    if expect:
        expect.write("%s %s %s\n" % ("good" if kind == "good" else "bad", i, kind))
