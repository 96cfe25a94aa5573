#!/usr/bin/env python3
"""bench/check.py OUTDIR -- what make test-bench asserts about a bench run.

Not the figures (no timing thresholds: they depend on the machine and its
load), but that the run produced what docs/bench.md promises: every table
with rows whose cells are numbers (median, min-max), the ratio tables, the
targets table with a verdict per target, the CSV files with numeric
medians, the machine description, and every plot as a real PNG image.
Prints PASS/FAIL per check and "N passed, N failed, 0 skipped"; exit 1 if
any failed."""
import csv
import os
import re
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "build/bench-quick"
passed = failed = 0


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS " + name)
    else:
        failed += 1
        print("FAIL %s%s" % (name, (": " + why) if why else ""))


NUM = r"-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?"
CELL = re.compile(r"^(%s|%s \(%s-%s\))( \[n=[0-9]+\])?( \[[0-9]+ failed\])?$" % (NUM, NUM, NUM, NUM))


def tables(path):
    """[(heading-or-preceding-line, header cells, [row cells])] of a Markdown file"""
    out, cur, prev = [], None, ""
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cur is None:
                cur = (prev, cells, [])
                out.append(cur)
            elif not all(re.match(r"^-*:?$", c) for c in cells):
                cur[2].append(cells)
        else:
            cur = None
            if line.strip():
                prev = line
    return out


def numeric(c):
    return bool(CELL.match(c))


def check_metric(name, must_rows, need_ratio=True):
    p = os.path.join(OUT, name + ".md")
    if not os.path.exists(p):
        check(name + ".md exists", False)
        return
    ts = tables(p)
    check(name + ".md has a value table", len(ts) >= 1 and len(ts[0][2]) > 0)
    if not ts:
        return
    vals = ts[0]
    check(name + ": size columns", len(vals[1]) >= 2, "header %s" % vals[1])
    # third-party tools may fail on their own (zmq's ipc PUSH/PULL loses
    # messages now and then): their rows may say "failed", never be empty
    bad = [r for r in vals[2] if not any(numeric(c) for c in r[1:]) and
           not (r[0].split()[0] in ("zmq", "nng", "nanomsg") and "failed" in " ".join(r[1:]))]
    check(name + ": every row has a measured cell", not bad, "empty rows: %s" % [r[0] for r in bad])
    junk = [(r[0], c) for r in vals[2] for c in r[1:] if c not in ("-", "failed") and not numeric(c)]
    check(name + ": every cell is a number (median (min-max)) or -", not junk, "cells: %s" % junk[:5])
    labels = [r[0] for r in vals[2]]
    for m in must_rows:
        row = [r for r in vals[2] if r[0] == m]
        check("%s: row '%s' measured" % (name, m), row and any(numeric(c) for c in row[0][1:]),
              "rows: %s" % labels)
    if need_ratio:
        rt = [t for t in ts[1:] if t[1][0] == "pair"]
        ok = bool(rt) and any(any(numeric(c) for c in r[1:]) for r in rt[0][2])
        check(name + ": ratio table fabtx / anchor with numbers", ok)
        if rt:
            pairs = [r[0] for r in rt[0][2]]
            check(name + ": ratios of fabtx shm:// against an anchor",
                  any(p.startswith("fabtx shm://") for p in pairs), "pairs: %s" % pairs)
    c = os.path.join(OUT, name + ".csv")
    try:
        rows = list(csv.reader(open(c)))
        body = rows[1:]
        meds = [r for r in body if r[5] != ""]
        check(name + ".csv: rows with numeric medians", len(meds) > 0 and
              all(re.match("^" + NUM + "$", r[5]) for r in meds))
        if need_ratio:
            check(name + ".csv: ratio rows", any(r[0] == "ratio" and r[5] for r in body))
    except (OSError, IndexError) as e:
        check(name + ".csv readable", False, str(e))


def png_ok(name):
    p = os.path.join(OUT, name)
    try:
        with open(p, "rb") as f:
            head = f.read(24)
        size = os.path.getsize(p)
    except OSError:
        check(name + " is a PNG image", False, "missing")
        return
    ok = head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    w, h = struct.unpack(">II", head[16:24]) if ok else (0, 0)
    # a drawn plot: pixels and more bytes than an empty canvas takes
    check(name + " is a PNG plot", ok and w >= 400 and h >= 300 and size > 15000,
          "signature %s, %dx%d, %d bytes" % (head[:8], w, h, size))


have_ucx = any(os.access(os.path.join(d, "ucx_perftest"), os.X_OK)
               for d in os.environ.get("PATH", "").split(":"))
ucx_rows = ["ucx_perftest posix tag", "ucx_perftest posix ucp_put"] if have_ucx else []

m = os.path.join(OUT, "machine.txt")
txt = open(m).read() if os.path.exists(m) else ""
check("machine.txt describes the machine and the run",
      all(k in txt for k in ("host cpus:", "kernel:", "rounds", "duration:")))
check_metric("latency", ["fabtx shm:// busy", "fabtx shm:// event", "floor: cache-line hop (no payload)",
                         "floor: eventfd wakeup (no payload)"] + ucx_rows)
check_metric("throughput", ["fabtx shm:// busy", "floor: memcpy, 1 thread"] + ucx_rows)
check_metric("msgrate", ["fabtx shm:// busy"] + ucx_rows)

ft = tables(os.path.join(OUT, "fanin.md")) if os.path.exists(os.path.join(OUT, "fanin.md")) else []
check("fanin.md: aggregate and per-client rows with numbers",
      bool(ft) and {r[0] for r in ft[0][2]} >= {"aggregate", "per client"} and
      all(any(numeric(c) for c in r[1:]) for r in ft[0][2]))
check("fanin.md: aggregate / 1-client ratio", len(ft) > 1 and any(numeric(c) for c in ft[1][2][0][1:]))
st = tables(os.path.join(OUT, "scan.md")) if os.path.exists(os.path.join(OUT, "scan.md")) else []
check("scan.md: ring-length and cell-size tables with numbers",
      len(st) >= 2 and all(t[2] and all(any(numeric(c) for c in r[1:]) for r in t[2]) for t in st))

tt = tables(os.path.join(OUT, "targets.md")) if os.path.exists(os.path.join(OUT, "targets.md")) else []
rows = tt[0][2] if tt else []
check("targets.md: one row per target, each with a verdict",
      len(rows) >= 6 and all(r[-1] in ("yes", "no") or r[-1].startswith("n/a") for r in rows),
      "%d rows" % len(rows))
shm_t = [r for r in rows if r[0].startswith("shm://")]
check("targets.md: the shm:// targets were measured",
      len(shm_t) == 4 and all(r[-1] in ("yes", "no") and re.search(NUM, r[2]) for r in shm_t)
      if have_ucx else len(shm_t) == 4)
ev = [r for r in rows if r[0].startswith("event-driven")]
check("targets.md: the event-driven target was measured", bool(ev) and ev[0][-1] in ("yes", "no"))
check("report.md gathers the tables", os.path.exists(os.path.join(OUT, "report.md")) and
      all(s in open(os.path.join(OUT, "report.md")).read()
          for s in ("## Targets", "## One-way latency", "## Throughput", "## Message rate", "## Fan-in")))

for p in ("latency.png", "throughput.png", "event.png", "fanin.png", "scan_cells.png", "scan_cellsize.png"):
    png_ok(p)
lt = open(os.path.join(OUT, "latency.md")).read() if os.path.exists(os.path.join(OUT, "latency.md")) else ""
if "fabtx ofi://" in lt:
    png_ok("latency_ofi.png")
    png_ok("throughput_ofi.png")

print("%d passed, %d failed, 0 skipped" % (passed, failed))
sys.exit(1 if failed else 0)
