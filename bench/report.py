"""Turns bench/run.py's results into markdown and a chart (bench/results/latest.*)."""

import sys


def stage_costs(p):
    """Per-stage µs of one request, from the profile's nested timings."""
    get = p.get
    rows = [("parse", get("parse"), "Request.parse: header, token, options")]
    if "begin+_request" in p:
        rows += [
            ("header", p["begin"], "Response.begin: header and token"),
            ("dispatch", p["begin+_request"] - p["begin+write"],
             "checks, table lookup (find: %.2f), handler call chain" % get("find", 0)),
            ("write", p["begin+write"] - p["begin"], "Content-Format and payload \"abcd\""),
            ("handle glue", p["handle"] - p["parse"] - p["begin+_request"],
             "handle() around the above"),
        ]
    rows += [
        ("= handle()", p["handle"], "one request, no socket"),
        ("socket", p["recvfrom+sendto"], "recvfrom + sendto, as the echo floor does them"),
        ("poll glue", p["poll"] - p["handle"] - p["recvfrom+sendto"], "poll() around the above"),
        ("= poll()", p["poll"], "what serve() does per datagram"),
        ("echo floor", p["echo_loop"], "the echo loop's body, for comparison"),
    ]
    return rows


def markdown(res):
    rows, names = res["rows"], [p["name"] for p in res["peers"]]
    labels = {p["name"]: p["label"] for p in res["peers"]}
    windows = res["windows"]
    out = ["# CoAP benchmark: the sensor board and CON GET /bench, 127.0.0.1", "",
           "%s. Server on CPU %d, load generator on CPU %d; %d interleaved runs of %.1f s "
           "per cell (peer order rotated each round), after %.1f s of warm-up each."
           % (res["date"], res["server_cpu"], res["client_cpu"], res["rounds"],
              res["duration_s"], res["warmup_s"]), "",
           "![req/s and p99 per peer and W](latest.png)", "",
           "| peer | W | req/s median (min–max) | p50 µs | p99 µs | server CPU µs/req "
           "| lost/bad | peak RSS MiB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        for w in windows:
            r = rows["%s/%d" % (name, w)]
            cpu = r["server_cpu_us_per_req"]
            out.append("| %s | %d | %.0f (%.0f–%.0f) | %.0f | %.0f | %s | %d/%d | %.1f |" % (
                labels[name], w, r["req_per_s"], r["req_per_s_min"], r["req_per_s_max"],
                r["p50_us"], r["p99_us"], "%.1f" % cpu if cpu is not None else "–",
                r["lost"], r["bad"], (r["peak_rss_kib"] or 0) / 1024))
    out += ["", "## This server as a ratio of each peer (median req/s, same run)", "",
            "| | " + " | ".join("W=%d" % w for w in windows) + " |",
            "|---|" + "---:|" * len(windows)]
    for ours, other in res["ratio_pairs"]:
        out.append("| %s / %s | " % (ours, other) + " | ".join(
            "%.2f×" % res["ratios"]["%s/%s W=%d" % (ours, other, w)] for w in windows) + " |")
    low = [w for w, h in res["headroom"].items() if h < 1.5]
    out += ["", "Load generator headroom: its best echo-floor run reached "
            + ", ".join("%.1f× (W=%d)" % (h, w) for w, h in res["headroom"].items())
            + " the median req/s of the fastest CoAP server. "
            + ("So the generator is not what limits the CoAP servers." if not low else
               "At W=%s the margin is small: there the round trip itself (a wake-up on "
               "each CPU per request), more than either side, sets the pace."
               % ", ".join(map(str, low)))]
    out += ["", "## Targets (reported, not asserted)", "", "| target | goal | measured | met |",
            "|---|---|---:|---|"]
    for what, goal, got, met in res["targets"]:
        out.append("| %s | %s | %s | %s |" % (what, goal, "–" if got is None else "%.2f" % got,
                                             "yes" if met else "no"))
    out += ["", "## Heap of this server (gc.mem_alloc, %d requests over the socket, gc off)"
            % res["heap_requests"], "",
            "| build | resident heap after start, bytes | garbage per request, bytes |",
            "|---|---:|---:|"]
    for name, h in res["heap"].items():
        if h is None:
            out.append("| %s | failed | failed |" % name)
            continue
        out.append("| %s | %d | %.1f |" % (name, h["resident_heap_bytes"],
                                            h["garbage_bytes_per_req"]))
    instr = res.get("instructions_per_request")
    if instr:
        out += ["", "## Instructions per request of the sensor board (callgrind, user space)", "",
                "Deterministic: judge a change by these, not by the clock "
                "(`python bench/instructions.py`; recvfrom, handle and sendto through "
                "Server.drain as serve() runs it, plus the driver's client socket calls; "
                "one-socket: the same handlers behind bench/server_board.py's server).", "",
                "| GET | instructions/request | above the floor |", "|---|---:|---:|"]
        floor = instr.get("floor", 0)
        for path, n in instr.items():
            out.append("| %s | %d | %s |" % (path, n, "–" if path == "floor" else n - floor))
    if res["profile"]:
        out += ["", "## Where this server's µs go (MicroPython, no load generator, best of 5)",
                "", "| stage | µs/request | what |", "|---|---:|---|"]
        for name, us, what in stage_costs(res["profile"]):
            out.append("| %s | %.2f | %s |" % (name, us, what))
    out += ["", "Notes:", ""] + ["- " + n for n in res["notes"]]
    return "\n".join(out) + "\n"


def chart(res, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib missing, no chart (make setup installs it)", file=sys.stderr)
        return False
    rows, names = res["rows"], [p["name"] for p in res["peers"]]
    windows = res["windows"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / len(windows)
    for i, w in enumerate(windows):
        xs = [k + (i - 1) * width for k in range(len(names))]
        rs = [rows["%s/%d" % (n, w)] for n in names]
        med = [r["req_per_s"] for r in rs]
        err = [[m - r["req_per_s_min"] for m, r in zip(med, rs)],
               [r["req_per_s_max"] - m for m, r in zip(med, rs)]]
        a.bar(xs, med, width, yerr=err, capsize=2, label="W=%d" % w)
        b.bar(xs, [r["p99_us"] for r in rs], width, label="W=%d" % w)
    for ax, title in ((a, "requests/s (median, min–max)"), (b, "p99 latency, µs")):
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=20)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("CoAP GET /bench, 4-byte payload, 127.0.0.1 (%s)" % res["date"][:10])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
