"""Medians across rounds, ratios, the issue's targets, and the printed table."""

from .measure import median_of
from .source import PIECE

# The concurrent readers the targets are about.
TARGET_READERS = 64

# (key, label, lower is better); {readers}: how many readers the run had ("64 readers").
FIGURES = [
    ("readyMs", "magnet->ready ms", True),
    ("firstByteMs", "magnet->1st byte ms", True),
    ("seekP50Ms", "seek p50 ms", True),
    ("seekP95Ms", "seek p95 ms", True),
    ("seqMBps", "sequential MB/s", False),
    ("cpuSPerGiB", "CPU-s/GiB", True),
    ("peakRssMiB", "peak RSS MiB", True),
    ("seedersSentRatio", "seeders sent / file", True),
    ("readers1.firstByteP95Ms", "{readers}, 1 stream: p95 1st byte ms", True),
    ("readers4.firstByteP95Ms", "{readers}, 4 streams: p95 1st byte ms", True),
]
# Medians kept beside FIGURES, compared with nobody's: the download alone (no reader) is
# measured by polling the system's progress, which costs each system differently.
OWN_FIGURES = ["downloadMBps", "downloadCpuSPerGiB", "readerCpuSPerGiB"]


def _readers_count(n: int) -> str:
    return f"{n} reader" + ("" if n == 1 else "s")


def _get(d, key):
    for part in key.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def _comparable(summary: dict, key: str) -> bool:
    """Whether a peer's figure can be compared. A reader p95 is over the readers that got
    a byte: a peer whose readers failed or stalled has a p95 of the few that did, which is
    no measure of serving them all, so it is nobody's best."""
    readers = key.split(".", 1)[0]
    if readers not in ("readers1", "readers4"):
        return True
    r = summary.get(readers) or {}
    return r.get("errors", 0) + r.get("stalls", 0) == 0


def summarize_system(rounds: list) -> dict:
    """Medians of each figure over the rounds; reader errors and stalls are summed."""
    summary = {}
    for key in [k for k, _, _ in FIGURES] + OWN_FIGURES:
        if "." not in key:
            summary[key] = median_of([r.get(key) for r in rounds])
    for key in ("readers1", "readers4"):
        runs = [r.get(key) for r in rounds if r.get(key)]
        if not runs:
            summary[key] = None
            continue
        summary[key] = {
            "errors": sum(x["errors"] for x in runs),
            "stalls": sum(x["stalls"] for x in runs),
            "firstByteP95Ms": median_of([x["firstByteP95Ms"] for x in runs]),
        }
    summary["failures"] = sum(len(r.get("failures", [])) for r in rounds)
    wrong = [r["wrongBytes"] for r in rounds if r.get("wrongBytes")]
    summary["wrongBytes"] = wrong[0] if wrong else None
    return summary


def summarize(condition: dict, systems_meta: dict, readers: int = TARGET_READERS) -> dict:
    """Adds `summary` to each system, the ceiling's median, ratios and targets; `readers`
    is how many concurrent readers the run had."""
    ceiling = {
        "mbps": median_of([c.get("mbps") for c in condition["ceiling"]]),
        "seedersSentRatio": median_of([c.get("seedersSentRatio") for c in condition["ceiling"]]),
    }
    condition["ceilingSummary"] = ceiling
    for key, entry in condition["systems"].items():
        entry["summary"] = s = summarize_system(entry["rounds"])
        if ceiling["mbps"] and s.get("seqMBps"):
            s["seqVsCeiling"] = s["seqMBps"] / ceiling["mbps"]
        if ceiling["mbps"] and s.get("downloadMBps"):
            s["downloadVsCeiling"] = s["downloadMBps"] / ceiling["mbps"]
    peers = {k: e["summary"] for k, e in condition["systems"].items()
             if systems_meta[k]["isPeer"]}
    ours = condition["systems"].get("cinemahalal", {}).get("summary")
    ratios = []
    for key, label, lower in FIGURES:
        candidates = [(k, _get(s, key)) for k, s in peers.items()
                      if _get(s, key) is not None and _comparable(s, key)]
        best = (min if lower else max)(candidates, key=lambda kv: kv[1]) if candidates else None
        mine = _get(ours, key) if ours else None
        ratios.append({
            "figure": key, "label": label.format(readers=_readers_count(readers)),
            "lowerIsBetter": lower, "cinemahalal": mine,
            "bestPeer": best[0] if best else None, "bestPeerValue": best[1] if best else None,
            "ratio": mine / best[1] if best and mine is not None and best[1] else None,
        })
    condition["vsBestPeer"] = ratios
    condition["targets"] = targets(condition, ours, peers, ceiling, readers)
    return condition


def _target(what, value, limit, holds, why=None):
    return {"target": what, "value": value, "limit": limit, "holds": holds, "note": why}


def targets(condition, ours, peers, ceiling, readers=TARGET_READERS) -> list:
    """The issue's targets for this condition: holds True/False, None if not measurable."""
    out = []
    if not ours:
        return out
    name = condition["condition"]
    rq = peers.get("rqbit")

    def vs(what, mine, other, factor, lower=True, missing="not measured"):
        if mine is None or other is None:
            out.append(_target(what, mine, None, None, missing))
            return
        limit = other * factor
        out.append(_target(what, mine, limit, mine <= limit if lower else mine >= limit))

    def best(key, lower=True):
        values = [_get(s, key) for s in peers.values() if _get(s, key) is not None]
        return (min(values) if lower else max(values)) if values else None

    if name == "narrow":
        piece_ms = PIECE / (ceiling["mbps"] * 1e6) * 1000 if ceiling["mbps"] else None
        vs("seek p95 <= two piece times at the swarm's rate (ms)", ours.get("seekP95Ms"),
           piece_ms, 2)
        vs("seek p95 <= 0.5x the best peer's (ms)", ours.get("seekP95Ms"),
           best("seekP95Ms"), 0.5, missing="no peer in this run")
        vs("sequential >= 0.97x the plain download (MB/s)", ours.get("seqMBps"),
           ceiling["mbps"], 0.97, lower=False)
        vs("seeders send <= 1.03x the file", ours.get("seedersSentRatio"), 1.0, 1.03)
        vs("magnet -> first byte <= 0.5x the best peer's (ms)", ours.get("firstByteMs"),
           best("firstByteMs"), 0.5, missing="no peer in this run")
    else:
        rq_missing = "no rqbit in this run"
        vs("sequential >= 0.95x the plain download (MB/s)", ours.get("seqMBps"),
           ceiling["mbps"], 0.95, lower=False)
        vs("sequential >= rqbit's (MB/s)", ours.get("seqMBps"),
           rq and rq.get("seqMBps"), 1.0, lower=False, missing=rq_missing)
        vs("magnet -> first byte <= 0.5x rqbit's (ms)", ours.get("firstByteMs"),
           rq and rq.get("firstByteMs"), 0.5, missing=rq_missing)
        vs("seek p95 <= rqbit's (ms)", ours.get("seekP95Ms"),
           rq and rq.get("seekP95Ms"), 1.0, missing=rq_missing)
        vs("CPU-s per GiB <= 0.7x rqbit's", ours.get("cpuSPerGiB"),
           rq and rq.get("cpuSPerGiB"), 0.7, missing=rq_missing)
        rss = ours.get("peakRssMiB")
        out.append(_target("peak RSS < 64 MiB", rss, 64, None if rss is None else rss < 64))
    for key, where in (("readers1", "one stream"), ("readers4", "four streams")):
        what = f"{TARGET_READERS} readers on {where}: no error, no stall"
        r = ours.get(key)
        if r is None:
            out.append(_target(what, None, 0, None, "not measured"))
        elif readers < TARGET_READERS:
            out.append(_target(what, f"{r['errors']} errors, {r['stalls']} stalls", 0, None,
                               f"this run had {_readers_count(readers)}"))
        else:
            bad = r["errors"] + r["stalls"]
            out.append(_target(what, f"{r['errors']} errors, {r['stalls']} stalls", 0,
                               bad == 0))
    return out


def _fmt(v, digits=0):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:.{digits}f}"


def _alone(s):
    if s.get("downloadMBps") is None:
        return "-"
    return f"{s['downloadMBps']:.1f} ({_fmt(s.get('downloadVsCeiling'), 2)})"


def _readers(r):
    if r is None:
        return "n/a"
    return f"{r['errors']}/{r['stalls']}/{_fmt(r['firstByteP95Ms'])}"


def table(result: dict) -> str:
    lines = []
    n = result["meta"].get("readers", TARGET_READERS)
    cols = ["condition", "system", "ready", "1st byte", "seek p50", "seek p95", "MB/s",
            "x ceil", "x best", "alone MB/s (x ceil)", "CPU-s/GiB", "RSS MiB", "sent/file",
            f"{n} on 1: err/stall/p95", f"{n} on 4: err/stall/p95"]
    rows = []
    wrong = []
    for cond in result["conditions"]:
        name = cond["condition"]
        if cond.get("skipped"):
            continue
        c = cond["ceilingSummary"]
        rows.append([name, "plain download (libtorrent)", "", "", "", "", _fmt(c["mbps"], 1),
                     "1.00", "", "", "", "", _fmt(c["seedersSentRatio"], 2), "", ""])
        best_seq = next((r for r in cond["vsBestPeer"] if r["figure"] == "seqMBps"), None)
        for key, entry in cond["systems"].items():
            s = entry["summary"]
            label = result["systems"][key]["label"]
            if s.get("wrongBytes"):
                rows.append([name, label, "WRONG BYTES"] + [""] * 12)
                wrong.append(f"{name}: {label} returned wrong bytes: {s['wrongBytes']}")
                continue
            x_best = (s["seqMBps"] / best_seq["bestPeerValue"]
                      if best_seq and best_seq["bestPeerValue"] and s.get("seqMBps") else None)
            rows.append([
                name, label + (f" ({s['failures']} failed)" if s["failures"] else ""),
                _fmt(s.get("readyMs")), _fmt(s.get("firstByteMs")), _fmt(s.get("seekP50Ms")),
                _fmt(s.get("seekP95Ms")), _fmt(s.get("seqMBps"), 1),
                _fmt(s.get("seqVsCeiling"), 2), _fmt(x_best, 2), _alone(s),
                _fmt(s.get("cpuSPerGiB"), 2),
                _fmt(s.get("peakRssMiB")), _fmt(s.get("seedersSentRatio"), 2),
                _readers(s.get("readers1")), _readers(s.get("readers4"))])
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *rows)]
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
    lines.append("(ms; MB/s = 10^6 bytes/s; x ceil / x best: sequential MB/s over the plain "
                 "download's / the best peer's; alone: the same download with no reader, "
                 "where the system reports its progress; sent/file: seeders' payload during "
                 "the sequential read over the file size)")
    lines.extend(wrong)
    for cond in result["conditions"]:
        for key, entry in cond.get("systems", {}).items():
            failures = [f for r in entry["rounds"] for f in r.get("failures", [])]
            for f in failures[:3]:
                lines.append(f"{cond['condition']}: {result['systems'][key]['label']} failed: {f}")
            if len(failures) > 3:
                lines.append(f"{cond['condition']}: {result['systems'][key]['label']}: "
                             f"{len(failures) - 3} more failures in the JSON")

    for cond in result["conditions"]:
        if cond.get("skipped") or "cinemahalal" not in cond["systems"]:
            continue
        lines.append("")
        if not any(r["bestPeer"] for r in cond["vsBestPeer"]):
            lines.append(f"{cond['condition']}: no peer ran, no comparison")
        else:
            lines.append(f"{cond['condition']}: CinemaHalal against the best peer")
        for r in cond["vsBestPeer"] if any(r["bestPeer"] for r in cond["vsBestPeer"]) else []:
            if r["cinemahalal"] is None and r["bestPeerValue"] is None:
                continue
            best = (f"{_fmt(r['bestPeerValue'], 2)} ({result['systems'][r['bestPeer']]['label']})"
                    if r["bestPeer"] else "no peer")
            lines.append(f"  {r['label']:<40} {_fmt(r['cinemahalal'], 2):>10}  vs {best:<32} "
                         f"ratio {_fmt(r['ratio'], 2)}")
        lines.append(f"{cond['condition']}: targets")
        for t in cond["targets"]:
            verdict = {True: "holds", False: "MISSED", None: "n/a"}[t["holds"]]
            limit = "" if t["limit"] is None else f" (limit {_fmt(t['limit'], 2)})"
            note = f" - {t['note']}" if t["note"] else ""
            lines.append(f"  {verdict:<6} {t['target']}: {_fmt(t['value'], 2)}{limit}{note}")
    for cond in result["conditions"]:
        for key, why in cond.get("skippedSystems", {}).items():
            lines.append(f"{cond['condition']}: skipped {key}: {why}")
        if cond.get("skipped"):
            lines.append(f"{cond['condition']}: condition skipped: {cond['skipped']}")
    return "\n".join(lines)
