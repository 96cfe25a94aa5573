#!/usr/bin/env python3
"""bench/report.py OUTDIR -- the tables, targets and plots of make bench.

Reads OUTDIR/raw.csv (round,row,metric,x,value; written by bench/run.sh:
one line per measurement, an empty value for a failed one) and
OUTDIR/machine.txt, and writes into OUTDIR:
  latency.md/.csv     one-way latency (us) per configuration and size
  throughput.md/.csv  streaming throughput (GB/s), ping-pong throughput
  msgrate.md/.csv     message rate (Mmsg/s) of the streaming runs
  fanin.md/.csv       fan-in: aggregate and per-client GB/s by clients
  scan.md/.csv        ring length and cell size scans
  targets.md/.csv     issue 19's targets: measured ratio, met yes/no
  report.md           all of it with the machine description
  *.png               gnuplot plots (see docs/bench.md)
Every cell is the median of the rounds with its min-max; every ratio is
taken within a round (fabtx and its anchor measured back to back) and then
summarised the same way.  Prints the targets table.  docs/bench.md says how
to read it all."""
import csv
import math
import os
import statistics
import subprocess
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "build/bench"


def die(msg):
    print("report.py: " + msg, file=sys.stderr)
    sys.exit(1)


# ------------------------------------------------------------------ input
raw = {}      # (row, metric, x) -> {round: value}
failed = {}   # (row, metric, x) -> count
rounds = set()
try:
    with open(os.path.join(OUT, "raw.csv")) as f:
        for r in csv.DictReader(f):
            key = (r["row"], r["metric"], int(r["x"]))
            rd = int(r["round"])
            rounds.add(rd)
            if r["value"] in ("", "nan"):
                failed[key] = failed.get(key, 0) + 1
                continue
            raw.setdefault(key, {})[rd] = float(r["value"])
except (OSError, KeyError, ValueError) as e:
    die("cannot read %s/raw.csv: %s" % (OUT, e))
if not raw:
    die("no measurement in %s/raw.csv" % OUT)
machine = open(os.path.join(OUT, "machine.txt")).read() \
    if os.path.exists(os.path.join(OUT, "machine.txt")) else ""
NR = len(rounds)


def series(row, metric):
    """{x: {round: value}} of one row"""
    out = {}
    for (r, m, x), v in raw.items():
        if r == row and m == metric:
            out[x] = v
    return out


def rows_of(metric):
    seen = []
    for (r, m, _x) in raw:
        if m == metric and r not in seen:
            seen.append(r)
    return seen


# ------------------------------------------------------ derived per round
def put(row, metric, x, rd, v):
    raw.setdefault((row, metric, x), {})[rd] = v


hop = series("floor cache-line hop", "lat").get(0, {})
wake = series("floor eventfd wakeup", "lat").get(0, {})
mcp = series("floor memcpy", "thr")
busy = series("fabtx shm:// busy", "lat")
for x, byr in mcp.items():          # one hop plus one copy of the message
    for rd, mbps in byr.items():
        if rd in hop and mbps > 0:
            put("floor hop + memcpy", "lat", x, rd, hop[rd] + x / mbps)
for x, byr in busy.items():         # the event-driven target's reference
    for rd, us in byr.items():
        if rd in wake:
            put("floor wakeup + shm:// busy", "lat", x, rd, wake[rd] + us)
# ping-pong throughput (size / one-way time) of every latency row
for row in rows_of("lat"):
    if not (row.startswith("fi_pingpong") or (row.startswith("fabtx ofi://") and row.endswith("busy"))):
        continue
    for x, byr in series(row, "lat").items():
        for rd, us in byr.items():
            if us > 0 and x > 0:
                put(row + " (ping-pong)", "pp", x, rd, x / us)
# message rate of every streaming row; throughput in GB/s
for row in rows_of("thr"):
    for x, byr in series(row, "thr").items():
        for rd, mbps in byr.items():
            put(row, "rate", x, rd, mbps / x)        # MB/s / B = Mmsg/s
            put(row, "gbps", x, rd, mbps / 1000)
for row in rows_of("pp"):
    for x, byr in series(row, "pp").items():
        for rd, mbps in byr.items():
            put(row, "gbps", x, rd, mbps / 1000)
for m in ("fanin", "scan_cells", "scan_cellsize"):
    for row in rows_of(m):
        for x, byr in series(row, m).items():
            for rd, mbps in byr.items():
                put(row, m + "_gbps", x, rd, mbps / 1000)


# ---------------------------------------------------------------- helpers
def fmt(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    return "%.3g" % v


def size_name(x):
    for unit, n in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if x >= n and x % n == 0:
            return "%d %s" % (x // n, unit)
    return "%d B" % x


def size_tic(x):
    for unit, n in (("M", 1 << 20), ("K", 1 << 10)):
        if x >= n and x % n == 0:
            return "%d%s" % (x // n, unit)
    return str(x)


def summary(byr):
    """(median, min, max, n) of {round: value}"""
    v = sorted(byr.values())
    if not v:
        return None
    return statistics.median(v), v[0], v[-1], len(v)


def cell(s, nfail=0):
    if s is None:
        return "-" if not nfail else "failed"
    med, lo, hi, n = s
    t = fmt(med) if n == 1 else "%s (%s-%s)" % (fmt(med), fmt(lo), fmt(hi))
    if n < NR:
        t += " [n=%d]" % n
    if nfail:
        t += " [%d failed]" % nfail
    return t


def ratio_rounds(a, b):
    """{round: a/b} over the rounds both have"""
    return {rd: a[rd] / b[rd] for rd in a if rd in b and b[rd] > 0}


csv_rows = {}   # file -> list of rows


def emit_csv(fname, table, row, x, unit, s, nfail=0):
    r = [table, row, x, unit]
    if s is None:
        r += [0, "", "", ""]
    else:
        r += [s[3], "%.6g" % s[0], "%.6g" % s[1], "%.6g" % s[2]]
    r.append(nfail)
    csv_rows.setdefault(fname, []).append(r)


def md_table(title, colname, xs, xname, lines):
    """lines: [(label, {x: cell text})]"""
    out = ["| %s | %s |" % (colname, " | ".join(xname(x) for x in xs)),
           "|---|" + "---:|" * len(xs)]
    for label, cells in lines:
        out.append("| %s | %s |" % (label, " | ".join(cells.get(x, "-") for x in xs)))
    return "\n".join(out) + "\n"


# ------------------------------------------------------------- the tables
ORDER = ["fabtx shm:// busy", "fabtx shm:// event", "ucx posix put", "ucx posix tag",
         "ucx posix+cma put", "ucx posix+cma tag", "fi_pingpong shm"]


def ordered(rows):
    def k(r):
        base = r.replace(" (ping-pong)", "")
        if r.startswith("floor"):
            return (3, r)
        if base in ORDER:
            return (0, ORDER.index(base), r)
        if base.startswith("fabtx ofi") or base.startswith("fi_pingpong"):
            prov = base.split()[-2] if base.startswith("fabtx") else base.split()[-1]
            return (1, prov, r)
        return (2, r)
    return sorted(rows, key=k)


LABEL = {
    "ucx posix put": "ucx_perftest posix ucp_put",
    "ucx posix tag": "ucx_perftest posix tag",
    "ucx posix+cma put": "ucx_perftest posix+cma ucp_put",
    "ucx posix+cma tag": "ucx_perftest posix+cma tag",
    "floor cache-line hop": "floor: cache-line hop (no payload)",
    "floor eventfd wakeup": "floor: eventfd wakeup (no payload)",
    "floor hop + memcpy": "floor: hop + memcpy of the message",
    "floor wakeup + shm:// busy": "floor: eventfd wakeup + fabtx shm:// busy",
    "floor memcpy": "floor: memcpy, 1 thread",
}


def label(r):
    return LABEL.get(r, r)


# ratio pairs: (metric, fabtx row, anchor row); ratio = fabtx / anchor
def pairs_for(metric):
    P = []
    rows = set(rows_of(metric))
    if metric == "lat":
        for a in ("ucx posix put", "ucx posix tag", "ucx posix+cma put", "ucx posix+cma tag",
                  "fi_pingpong shm", "floor hop + memcpy"):
            P.append(("fabtx shm:// busy", a))
        P.append(("fabtx shm:// event", "floor wakeup + shm:// busy"))
        P.append(("fabtx shm:// event", "ucx posix tag"))
    elif metric in ("gbps", "rate"):
        for a in ("ucx posix tag", "ucx posix+cma tag", "ucx posix put", "ucx posix+cma put"):
            P.append(("fabtx shm:// busy", a))
        if metric == "gbps":
            P.append(("fabtx shm:// busy", "floor memcpy"))
    for r in sorted(rows):
        if r.startswith("fabtx ofi:// ") and r.endswith(" busy"):
            prov = r[len("fabtx ofi:// "):-len(" busy")]
            if metric == "lat":
                P.append((r, "fi_pingpong " + prov))
            if metric == "gbps":
                P.append((r, "fi_pingpong %s (ping-pong)" % prov))
                P.append((r + " (ping-pong)", "fi_pingpong %s (ping-pong)" % prov))
    for lib in ("zmq", "nng", "nanomsg"):
        for tr in ("shm", "shm-spin", "ofi"):
            for base in ("tcp", "ipc"):
                a, b = "%s %s://" % (lib, tr), "%s %s://" % (lib, base)
                if metric in ("lat", "gbps", "rate"):
                    P.append((a, b))
    have = set(r for (r, m, _x) in raw if m == metric)
    return [(a, b) for (a, b) in P if a in have and b in have]


def ratio_summary(metric, a, b, x):
    A = raw.get((a, metric, x), {})
    B = raw.get((b, metric, x), {})
    rr = ratio_rounds(A, B)
    return summary(rr) if rr else None


def metric_section(metric, fname, title, unit, better, xs_filter=None):
    rows = ordered(rows_of(metric))
    xs = sorted(set(x for (r, m, x) in raw if m == metric and x > 0))
    if xs_filter:
        xs = [x for x in xs if xs_filter(x)]
    lines = []
    for r in rows:
        cells = {}
        for x in xs + [0]:
            key = (r, metric, x)
            s = summary(raw[key]) if key in raw else None
            nf = failed.get((r, {"gbps": "thr", "rate": "thr"}.get(metric, metric), x), 0)
            if s is None and not nf:
                continue
            emit_csv(fname, "value", label(r), x, unit, s, nf)
            cells[x if x else (xs[0] if xs else 0)] = cell(s, nf)
        if cells:
            lines.append((label(r), cells))
    text = "## %s\n\n" % title
    text += "Median of %d round(s) (min-max); unit: %s.  %s\n\n" % (NR, unit, better)
    text += md_table(title, "configuration", xs, size_name, lines)
    pl = []
    for a, b in pairs_for(metric):
        cells = {}
        for x in xs:
            s = ratio_summary(metric, a, b, x)
            if s is None:
                continue
            emit_csv(fname, "ratio", "%s / %s" % (label(a), label(b)), x, "ratio", s)
            cells[x] = cell(s)
        if cells:
            pl.append(("%s / %s" % (label(a), label(b)), cells))
    if pl:
        text += "\nRatios fabtx / anchor, taken within each round, median (min-max):\n\n"
        text += md_table(title, "pair", xs, size_name, pl)
    return text


sections = {}
sections["latency"] = metric_section(
    "lat", "latency", "One-way latency", "us (half a round trip)",
    "Lower is better; a ratio below 1 means fabtx is faster.  The floors without payload "
    "are in the first column.")
sections["throughput"] = metric_section(
    "gbps", "throughput", "Throughput", "GB/s (1e9 B/s)",
    "Higher is better; a ratio above 1 means fabtx moves more.  Streaming rows: many "
    "messages in flight (local_thr/remote_thr, ucx *_bw); rows marked (ping-pong): "
    "size / one-way latency of a ping-pong (all fi_pingpong measures).")
sections["msgrate"] = metric_section(
    "rate", "msgrate", "Message rate", "million messages/s",
    "Higher is better; from the streaming runs (throughput / size).",
    xs_filter=lambda x: x <= 65536)

# fan-in
fan_x = sorted(set(x for (r, m, x) in raw if m == "fanin_gbps"))
fl = []
for r in ("fanin aggregate", "fanin per client"):
    cells = {}
    for x in fan_x:
        s = summary(raw.get((r, "fanin_gbps", x), {})) if (r, "fanin_gbps", x) in raw else None
        emit_csv("fanin", "value", r, x, "GB/s", s, failed.get((r, "fanin", x), 0))
        cells[x] = cell(s, failed.get((r, "fanin", x), 0))
    fl.append((r.replace("fanin ", ""), cells))
fr = {}
one = raw.get(("fanin aggregate", "fanin", 1), {})
for x in fan_x:
    s = summary(ratio_rounds(raw.get(("fanin aggregate", "fanin", x), {}), one)) if one else None
    if s:
        emit_csv("fanin", "ratio", "aggregate / 1-client aggregate", x, "ratio", s)
        fr[x] = cell(s)
sections["fanin"] = ("## Fan-in\n\nN client processes stream 64 KiB messages to one server over "
                     "shm:// (bench/fanin.c; the server busy-polls every connection, the "
                     "clients sleep when out of credits).  Median of %d round(s) (min-max), GB/s; "
                     "per client = mean of the clients' own rates.\n\n" % NR +
                     md_table("fan-in", "clients", fan_x, str, fl) +
                     ("\nAggregate / 1-client aggregate of the same round:\n\n" +
                      md_table("fan-in", "", fan_x, str, [("ratio", fr)]) if fr else ""))

# scans
st = "## Scans of ring geometry\n\nfabtx shm:// busy-poll streaming throughput (GB/s, median of " \
     "%d round(s), min-max) with FABTX_CELL_COUNT (ring length, cells of the default " \
     "8 KiB) or FABTX_CELL_SIZE (bytes per cell, 256 cells) set on both sides; one row per " \
     "message size.\n\n" % NR
for m, what in (("scan_cells", "ring length (cells)"), ("scan_cellsize", "cell size (bytes)")):
    xs = sorted(set(x for (r, mm, x) in raw if mm == m + "_gbps"))
    sl = []
    for r in sorted(rows_of(m + "_gbps"), key=lambda r: int(r.split()[-1])):
        cells = {}
        for x in xs:
            s = summary(raw[(r, m + "_gbps", x)]) if (r, m + "_gbps", x) in raw else None
            emit_csv("scan", m, r, x, "GB/s", s, failed.get((r, m, x), 0))
            cells[x] = cell(s, failed.get((r, m, x), 0))
        sl.append(("%s messages" % size_name(int(r.split()[-1])), cells))
    if sl:
        st += "### %s\n\n" % what + md_table(m, "message size", xs, str, sl) + "\n"
sections["scan"] = st


# ---------------------------------------------------------------- targets
def rsum(metric, a, b, x):
    return ratio_summary(metric, a, b, x)


targets = []   # (target, measured text, met)


def rtxt(s):
    return fmt(s[0]) if s[3] == 1 else "%s (%s-%s)" % (fmt(s[0]), fmt(s[1]), fmt(s[2]))



def target(name, metric, a, b, xs, goal, le):
    """every x in xs (that was measured) must meet ratio (<= goal if le)"""
    got = []
    for x in xs:
        s = rsum(metric, a, b, x)
        if s:
            got.append((x, s))
    if not got:
        targets.append((name, "not measured", "n/a", ""))
        return
    ok = all((s[0] <= goal) if le else (s[0] >= goal) for _x, s in got)
    txt = "; ".join("%s: %s" % (size_name(x), rtxt(s)) for x, s in got)
    targets.append((name, txt, "yes" if ok else "no", "%s %s" % ("<=" if le else ">=", goal)))


lat_x = sorted(set(x for (r, m, x) in raw if m == "lat" and x > 0))
target("shm:// one-way latency <= 1.3x ucx ucp_put_lat, 8 B-1 KiB", "lat",
       "fabtx shm:// busy", "ucx posix put", [x for x in lat_x if 8 <= x <= 1024], 1.3, True)
target("shm:// one-way latency <= 1.5x ucx ucp_put_lat, 4-16 KiB", "lat",
       "fabtx shm:// busy", "ucx posix put", [x for x in lat_x if 4096 <= x <= 16384], 1.5, True)
target("shm:// 1 MiB throughput >= 0.8x memcpy 1 MiB (1 thread)", "gbps",
       "fabtx shm:// busy", "floor memcpy", [1 << 20], 0.8, False)
target("shm:// 64 B message rate >= 1.5x ucx tag_bw", "rate",
       "fabtx shm:// busy", "ucx posix tag", [64], 1.5, False)
for r in sorted(rows_of("lat")):
    if r.startswith("fabtx ofi:// ") and r.endswith(" busy"):
        prov = r[len("fabtx ofi:// "):-len(" busy")]
        xs = sorted(x for (rr, m, x) in raw if rr == r and m == "lat")
        target("ofi:// %s latency <= 1.05x fi_pingpong" % prov, "lat", r,
               "fi_pingpong " + prov, xs, 1.05, True)
        target("ofi:// %s throughput >= 1.0x fi_pingpong's (streaming vs its ping-pong MB/s, >= 1 MiB)"
               % prov, "gbps", r, "fi_pingpong %s (ping-pong)" % prov,
               [x for x in xs if x >= (1 << 20)], 1.0, False)
fx = sorted(set(x for (r, m, x) in raw if m == "fanin"))
if fx:
    big = max(fx)
    one = raw.get(("fanin aggregate", "fanin", 1), {})
    s = summary(ratio_rounds(raw.get(("fanin aggregate", "fanin", big), {}), one)) if one else None
    if s:
        targets.append(("fan-in: %d-client aggregate >= 0.9x the 1-client throughput" % big,
                        rtxt(s),
                        "yes" if s[0] >= 0.9 and big >= 16 else ("no" if s[0] < 0.9 else "n/a (< 16 clients)"),
                        ">= 0.9"))
    else:
        targets.append(("fan-in: 16-client aggregate >= 0.9x the 1-client throughput",
                        "not measured", "n/a", ">= 0.9"))
target("event-driven latency <= 1.1x (eventfd wakeup + busy-poll latency)", "lat",
       "fabtx shm:// event", "floor wakeup + shm:// busy", lat_x, 1.1, True)

tt = ["| target | goal | measured ratio, median (min-max) per size | met |", "|---|---|---|---|"]
for name, txt, met, goal in targets:
    tt.append("| %s | %s | %s | %s |" % (name, goal, txt, met))
    csv_rows.setdefault("targets", []).append([name, goal, txt, met])
sections["targets"] = ("## Targets (issue 19)\n\nEach ratio is fabtx / anchor of the same round; "
                       "\"met\" needs the median to meet the goal at every size listed.  "
                       "Tracked here, never asserted in tests.\n\n" + "\n".join(tt) + "\n")


# ------------------------------------------------------------------ plots
plots = []


def dat(name, row, metric, scale=1.0):
    """writes name.dat (x median min max); None if the row has no data"""
    pts = []
    for (r, m, x), byr in raw.items():
        if r == row and m == metric and x > 0 and byr:
            s = summary(byr)
            pts.append((x, s[0] * scale, s[1] * scale, s[2] * scale))
    if not pts:
        return None
    pts.sort()
    p = os.path.join(OUT, name + ".dat")
    with open(p, "w") as f:
        for x, a, b, c in pts:
            f.write("%d %g %g %g\n" % (x, a, b, c))
    return p


def const_dat(name, xs, byr, add=None):
    if not byr or not xs:
        return None
    med = statistics.median(byr.values())
    p = os.path.join(OUT, name + ".dat")
    with open(p, "w") as f:
        for x in xs:
            f.write("%d %g %g %g\n" % (x, med, min(byr.values()), max(byr.values())))
    return p


STYLES = ["lc rgb '#d62728' lw 2.5 pt 7", "lc rgb '#ff7f0e' lw 2 pt 5", "lc rgb '#1f77b4' lw 1.5 pt 9",
          "lc rgb '#2ca02c' lw 1.5 pt 11", "lc rgb '#9467bd' lw 1.5 pt 13", "lc rgb '#8c564b' lw 1.5 pt 4",
          "lc rgb '#17becf' lw 1.5 pt 6", "lc rgb '#e377c2' lw 1.5 pt 8", "lc rgb '#bcbd22' lw 1.5 pt 10"]
FLOOR = "lc rgb '#000000' lw 1.5 dt 2 pt 0"
NOBARS = " nobars"  # a style ending so: a line without min-max bars


def plot(name, title, xlabel, ylabel, series_list, xs, logx=True, logy=True, xtic=size_tic,
         key="top left"):
    """series_list: [(datfile, title, style)]"""
    series_list = [s for s in series_list if s[0]]
    if not series_list:
        print("report.py: no data for %s.png, not drawn" % name, file=sys.stderr)
        return
    gp = os.path.join(OUT, name + ".gp")
    png = os.path.join(OUT, name + ".png")
    with open(gp, "w") as f:
        f.write("set terminal pngcairo noenhanced size 1300,700 font 'sans,11'\n")
        f.write("set output '%s'\n" % png)
        f.write("set title \"%s\"\n" % title.replace('"', "'"))
        f.write("set xlabel '%s'\nset ylabel '%s'\n" % (xlabel, ylabel))
        f.write("set grid xtics ytics mxtics mytics lc rgb '#dddddd'\n")
        # the key right of the plot: it never hides a curve
        f.write("set key outside right top vertical box font ',10'\n")
        if logx:
            f.write("set logscale x 2\n")
        if logy:
            f.write("set logscale y 10\nset format y '%g'\n")
        if xs:
            f.write("set xtics (%s)\n" % ", ".join('"%s" %d' % (xtic(x), x) for x in xs))
            lo, hi = min(xs), max(xs)
            if logx:
                f.write("set xrange [%g:%g]\n" % (lo / 1.4, hi * 1.4))
            else:
                f.write("set xrange [%g:%g]\n" % (lo - 0.5, hi + 0.5))
        parts = []
        for d, t, st in series_list:
            if st.endswith(NOBARS) or st == FLOOR:
                parts.append("'%s' using 1:2 with lines %s title \"%s\"" % (d, st.replace(NOBARS, ""), t))
            else:
                parts.append("'%s' using 1:2:3:4 with yerrorlines %s title \"%s\"" % (d, st, t))
        f.write("plot " + ", \\\n     ".join(parts) + "\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(png):
        print("report.py: gnuplot failed for %s: %s" % (name, r.stderr.strip()), file=sys.stderr)
        return
    plots.append((name + ".png", title))


shm_x = sorted(set(x for (r, m, x) in raw if m == "lat" and r == "fabtx shm:// busy"))
plot("latency", "One-way latency against message size, shared memory (median, min-max bars)",
     "message size (bytes)", "one-way latency (us)",
     [(dat("lat_fab_busy", "fabtx shm:// busy", "lat"), "fabtx shm:// busy-poll", STYLES[0]),
      (dat("lat_fab_event", "fabtx shm:// event", "lat"), "fabtx shm:// event-driven", STYLES[1]),
      (dat("lat_ucx_put", "ucx posix put", "lat"), "UCX posix ucp_put_lat (one-sided)", STYLES[2]),
      (dat("lat_ucx_tag", "ucx posix tag", "lat"), "UCX posix tag_lat", STYLES[3]),
      (dat("lat_ucx_cma_tag", "ucx posix+cma tag", "lat"), "UCX posix+cma tag_lat", STYLES[4]),
      (dat("lat_fi_shm", "fi_pingpong shm", "lat"), "fi_pingpong shm", STYLES[5]),
      (dat("lat_floor", "floor hop + memcpy", "lat"), "floor: cache-line hop + memcpy", FLOOR)],
     shm_x)
plot("throughput", "Streaming throughput against message size, shared memory (median, min-max bars)",
     "message size (bytes)", "throughput (GB/s)",
     [(dat("thr_fab_busy", "fabtx shm:// busy", "gbps"), "fabtx shm:// busy-poll", STYLES[0]),
      (dat("thr_fab_event", "fabtx shm:// event", "gbps"), "fabtx shm:// event-driven", STYLES[1]),
      (dat("thr_ucx_put", "ucx posix put", "gbps"), "UCX posix ucp_put_bw (one-sided)", STYLES[2]),
      (dat("thr_ucx_tag", "ucx posix tag", "gbps"), "UCX posix tag_bw", STYLES[3]),
      (dat("thr_ucx_cma_tag", "ucx posix+cma tag", "gbps"), "UCX posix+cma tag_bw", STYLES[4]),
      (dat("thr_fi_shm", "fi_pingpong shm (ping-pong)", "gbps"), "fi_pingpong shm (ping-pong)", STYLES[5]),
      (dat("thr_floor", "floor memcpy", "gbps"), "floor: memcpy, 1 thread", FLOOR)],
     shm_x)
ofi_rows = [r for r in rows_of("lat") if r.startswith("fabtx ofi:// ") and r.endswith(" busy")]
ofi_x = sorted(set(x for (r, m, x) in raw if m == "lat" and r in ofi_rows))
ls, ts = [], []
for i, r in enumerate(sorted(ofi_rows)):
    prov = r[len("fabtx ofi:// "):-len(" busy")]
    tag = prov.replace(";", "_")
    c = STYLES[(i + 2) % len(STYLES)].split(" lw")[0]
    ls.append((dat("ofilat_fab_" + tag, r, "lat"), "fabtx ofi:// %s" % prov, c + " lw 2.5 pt 7"))
    ls.append((dat("ofilat_fi_" + tag, "fi_pingpong " + prov, "lat"), "fi_pingpong %s" % prov, c + " lw 1 dt 4 pt 6"))
    ts.append((dat("ofithr_fab_" + tag, r, "gbps"), "fabtx ofi:// %s streaming" % prov, c + " lw 2.5 pt 7"))
    ts.append((dat("ofithr_fi_" + tag, "fi_pingpong %s (ping-pong)" % prov, "gbps"),
               "fi_pingpong %s (ping-pong)" % prov, c + " lw 1 dt 4 pt 6"))
plot("latency_ofi", "ofi:// one-way latency next to fi_pingpong on the same provider",
     "message size (bytes)", "one-way latency (us)", ls, ofi_x)
plot("throughput_ofi", "ofi:// streaming throughput next to fi_pingpong's (ping-pong) MB/s",
     "message size (bytes)", "throughput (GB/s)", ts, ofi_x)
plot("event", "Event-driven (sleeping on the fd) one-way latency next to the wakeup floor",
     "message size (bytes)", "one-way latency (us)",
     [(dat("ev_fab_event", "fabtx shm:// event", "lat"), "fabtx shm:// event-driven", STYLES[1]),
      (dat("ev_fab_busy", "fabtx shm:// busy", "lat"), "fabtx shm:// busy-poll", STYLES[0]),
      (dat("ev_target", "floor wakeup + shm:// busy", "lat", 1.1), "target: 1.1 x (wakeup + busy-poll)",
       "lc rgb '#2ca02c' lw 1.5 dt 3" + NOBARS),
      (dat("ev_floor", "floor wakeup + shm:// busy", "lat"), "eventfd wakeup + busy-poll latency", STYLES[3]),
      (const_dat("ev_wakeup", shm_x, wake), "floor: eventfd wakeup alone", FLOOR)],
     shm_x)
plot("fanin", "Fan-in over shm://: N clients streaming 64 KiB messages to one server",
     "clients", "throughput (GB/s)",
     [(dat("fan_agg", "fanin aggregate", "fanin_gbps"), "aggregate", STYLES[0]),
      (dat("fan_per", "fanin per client", "fanin_gbps"), "per client (mean)", STYLES[2])],
     fan_x, xtic=str, key="top right")
for m, what, xl in (("scan_cells", "ring length", "cells per ring (FABTX_CELL_COUNT)"),
                    ("scan_cellsize", "cell size", "bytes per cell (FABTX_CELL_SIZE)")):
    rows = sorted(rows_of(m + "_gbps"), key=lambda r: int(r.split()[-1]))
    xs = sorted(set(x for (r, mm, x) in raw if mm == m + "_gbps"))
    plot(m, "Scan of %s: fabtx shm:// busy-poll streaming throughput" % what, xl, "throughput (GB/s)",
         [(dat("%s_%s" % (m, r.split()[-1]), r, m + "_gbps"), "%s messages" % size_name(int(r.split()[-1])),
           STYLES[i % len(STYLES)]) for i, r in enumerate(rows)], xs, logy=False,
         xtic=str if m == "scan_cells" else size_tic,
         key="bottom right")
TRO = ["tcp://", "ipc://", "shm://", "shm-spin://", "ofi://"]


def side_key(r):
    w = r.split()
    lib = ["zmq", "nng", "nanomsg"].index(w[0]) if w[0] in ("zmq", "nng", "nanomsg") else 9
    tr = TRO.index(w[1]) if len(w) > 1 and w[1] in TRO else 9
    return (lib, tr, r)


def side_style(r):
    """colour by transport, dashes by library, emulated backends grey"""
    lib, tr, _r = side_key(r)
    if "emulated" in r:
        return "lc rgb '#7f7f7f' lw 1.5 dt 4 pt %d" % (4 if "rio" in r else 6)
    colour = STYLES[tr % len(STYLES)].split(" lw")[0]
    return "%s lw 1.5 dt %d pt %d" % (colour, 1 + 3 * (lib % 3), 5 + 2 * lib)


for metric, name, what, yl in (("lat", "latency_msg", "one-way latency", "one-way latency (us)"),
                               ("gbps", "throughput_msg", "throughput", "throughput (GB/s)")):
    side = sorted([r for r in rows_of(metric)
                   if r.split()[0] in ("zmq", "nng", "nanomsg") or "(emulated)" in r], key=side_key)
    side_x = sorted(set(x for (r, m, x) in raw if m == metric and r in side))
    plot(name, "Messaging libraries over their own and fabtx's transports, emulated backends: " + what,
         "message size (bytes)", yl,
         [(dat("%s_%d" % (name, i), r, metric), r, side_style(r)) for i, r in enumerate(side)], side_x)

# ------------------------------------------------------------------ write
HEAD = {"latency": ["table", "configuration", "size_bytes", "unit", "rounds", "median", "min", "max", "failed"],
        "throughput": None, "msgrate": None,
        "fanin": ["table", "configuration", "clients", "unit", "rounds", "median", "min", "max", "failed"],
        "scan": ["table", "configuration", "x", "unit", "rounds", "median", "min", "max", "failed"],
        "targets": ["target", "goal", "measured", "met"]}
for name in ("latency", "throughput", "msgrate", "fanin", "scan", "targets"):
    with open(os.path.join(OUT, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEAD[name] or HEAD["latency"])
        for r in csv_rows.get(name, []):
            w.writerow(r)
    with open(os.path.join(OUT, name + ".md"), "w") as f:
        f.write(sections[name])

noise = ""
try:
    la = float(machine.split("load average at start:")[1].split()[0])
    ncpu = int(machine.split("host cpus:")[1].split()[0])
    if la > 0.25 * ncpu:
        noise = ("\n**Warning:** the load average was %.2f on %d CPUs when the run started: "
                 "other work competed for the CPUs and these figures are polluted.\n" % (la, ncpu))
except (IndexError, ValueError):
    pass
with open(os.path.join(OUT, "report.md"), "w") as f:
    f.write("# fabtx benchmark (make bench)\n\nHow to read it: docs/bench.md.\n%s\n"
            "## Machine and run\n\n```\n%s```\n\n" % (noise, machine))
    for name in ("targets", "latency", "throughput", "msgrate", "fanin", "scan"):
        f.write(sections[name] + "\n")
    f.write("## Plots\n\n" + "\n".join("- `%s`: %s" % p for p in plots) + "\n")

print()
print("Targets (fabtx / anchor ratios of the same round, median (min-max)):")
w1 = max(len(t[0]) for t in targets)
for name, txt, met, goal in targets:
    print("  %-*s  %-7s %-4s %s" % (w1, name, goal, met, txt))
print("\ntables: %s/{report,latency,throughput,msgrate,fanin,scan,targets}.md (and .csv)" % OUT)
print("plots:  " + " ".join(os.path.join(OUT, p[0]) for p in plots))
