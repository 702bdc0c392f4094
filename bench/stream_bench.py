#!/usr/bin/env python3
"""Streaming benchmark: CinemaHalal against a static file server, the swarm's plain
download and the streaming tools people use instead, on a local libtorrent swarm.

    sudo python3 bench/stream_bench.py [--size 1G] [--rounds 3] [--short] [--out FILE]

Prints a table and writes JSON (tests/artifacts/bench.json by default). Exits 1 if any
system returned a wrong byte (and, with --short or --strict, if CinemaHalal or the
baseline had a failed request, a reader error or a stall), 2 if the harness itself
failed. See bench/README.md.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEBIAN_PYTHON = "/usr/bin/python3"


def _ensure_libtorrent() -> None:
    """libtorrent comes from Debian's python3-libtorrent, importable by the system
    Python only: re-run under it when another python3 comes first in PATH."""
    try:
        import libtorrent  # noqa: F401
    except ImportError:
        if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and \
                os.path.exists(DEBIAN_PYTHON) and not os.environ.get("STREAM_BENCH_REEXEC"):
            os.environ["STREAM_BENCH_REEXEC"] = "1"
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
        sys.exit("stream_bench: needs libtorrent for Python: apt-get install python3-libtorrent "
                 "(then run it with /usr/bin/python3)")


_ensure_libtorrent()
sys.path.insert(0, HERE)

from streambench import measure, report, source, swarm, systems  # noqa: E402

SEED = 20261202
CONDITIONS = ["unshaped", "narrow"]
SYSTEM_KEYS = [cls.key for cls in systems.ALL]
# Seconds in log lines count from the parent's start (the child inherits it).
T0 = float(os.environ.setdefault("STREAM_BENCH_T0", str(time.time())))


def log(msg: str) -> None:
    print(f"[{time.time() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = text[-1:] if text[-1:] in units else ""
    try:
        value = float(text[: len(text) - len(unit)])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 64M, 1G)") from None
    size = int(value * units[unit])
    if size < 2 * measure.RANGE:
        raise argparse.ArgumentTypeError("the file must be at least 128 KiB")
    return size


def find_server():
    """The most recently built cinemahalal-server, release or debug, under
    $CARGO_TARGET_DIR or the repo's target/ (so a stale build is never measured)."""
    dirs = []
    if os.environ.get("CARGO_TARGET_DIR"):
        dirs.append(os.environ["CARGO_TARGET_DIR"])
    dirs.append(os.path.join(REPO, "target"))
    found = [os.path.join(d, profile, "cinemahalal-server")
             for d in dirs for profile in ("release", "debug")]
    found = [p for p in found if os.access(p, os.X_OK)]
    return max(found, key=os.path.getmtime) if found else None


def probe_private_net():
    """(True, None) if a private network namespace with tc can be made, else (False, why)."""
    if os.geteuid() != 0:
        return False, "needs root for a private network namespace (run it with sudo)"
    for tool in ("unshare", "tc", "ip"):
        if not shutil.which(tool):
            return False, f"{tool} is not installed (apt-get install util-linux iproute2)"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return False, f"unshare -n failed: {probe.stderr.strip()}"
    return True, None


def options():
    p = argparse.ArgumentParser(
        description="Streaming benchmark on a local libtorrent swarm (see bench/README.md).")
    p.add_argument("--size", type=parse_size, help="file size, e.g. 256M, 1G (default 1G; "
                   "16M with --short)")
    p.add_argument("--rounds", type=int, help="rounds; figures are medians (default 1)")
    p.add_argument("--short", action="store_true",
                   help="the CI form: 16 MiB, one round, CinemaHalal and the baseline, strict")
    p.add_argument("--strict", action="store_true",
                   help="also fail on any failed request, reader error or stall of "
                        "CinemaHalal or the baseline")
    p.add_argument("--conditions", help="comma-separated: unshaped,narrow (default both)")
    p.add_argument("--systems", help="comma-separated, of " + ",".join(SYSTEM_KEYS) +
                   " (default all; those not installed are skipped)")
    p.add_argument("--server", help="the cinemahalal-server binary (default: the newest of "
                   "release/ and debug/ under $CARGO_TARGET_DIR or the repo's target/)")
    p.add_argument("--rqbit", help="the rqbit binary (default: rqbit in PATH)")
    p.add_argument("--out", default=os.path.join(REPO, "tests", "artifacts", "bench.json"),
                   help="where to write the JSON (default tests/artifacts/bench.json)")
    p.add_argument("--readers", type=int, default=64, help="concurrent readers (default 64)")
    p.add_argument("--reader-kib", type=int, default=256,
                   help="bytes each concurrent reader reads, KiB (default 256)")
    p.add_argument("--seeks", type=int, default=10, help="seek offsets (default 10)")
    p.add_argument("--stall-secs", type=float, default=10.0,
                   help="a reader with no byte for this long has stalled (default 10)")
    p.add_argument("--give-up-secs", type=float, default=120.0,
                   help="a request with no byte for this long has failed (default 120)")
    p.add_argument("--workdir", help="where the temporary files go (default: the system's "
                   "temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the work dir (logs) afterwards")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p.parse_args()


class Ctx:
    """What the measurements of one condition share (in the child process)."""

    def __init__(self, plan, src, sw):
        self.plan = plan
        self.condition = plan["condition"]
        self.shaped = plan["shaped"]
        self.source = src
        self.source_dir = plan["sourceDir"]
        self.swarm = sw
        self.server = plan["server"]
        self.rqbit = plan["rqbit"]
        self.work_dir = os.path.join(plan["workDir"], self.condition)
        self.log_dir = os.path.join(self.work_dir, "logs")
        os.makedirs(self.log_dir, exist_ok=True)
        self.log_seq = 0
        self._id = 0
        self.stall_secs = plan["stallSecs"]
        self.give_up_secs = plan["giveUpSecs"]
        self.seek_offsets = plan["seekOffsets"]
        self.reader_offsets = plan["readerOffsets"]
        self.reader_bytes = plan["readerBytes"]
        self.round = 0

    def log(self, msg: str) -> None:
        log(f"{self.condition} r{self.round + 1}: {msg}")

    def next_id(self) -> int:
        self._id += 1
        return self._id

    def settle(self) -> None:
        """After a server stops: let packets queued for it leave the shaper first."""
        if self.shaped:
            deadline = time.monotonic() + 10
            while swarm.shaped_backlog() and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(0.1)


def child_main(plan_path: str) -> int:
    """Runs one condition (inside its network namespace when the plan says so)."""
    with open(plan_path) as f:
        plan = json.load(f)
    if plan["namespace"]:
        swarm.setup_namespace(plan["shaped"])
    src = source.Source(os.path.join(plan["sourceDir"], source.NAMES[0]))
    addresses = swarm.NARROW_SEEDERS if plan["shaped"] else swarm.UNSHAPED_SEEDERS
    sw = swarm.Swarm(plan["sourceDir"], plan["torrents"], addresses)
    ctx = Ctx(plan, src, sw)
    result = {"condition": plan["condition"], "shaped": plan["shaped"],
              "privateNetwork": plan["namespace"], "seeders": sw.peers,
              "ceiling": [], "systems": {}, "skippedSystems": {}}
    chosen = []
    for cls in systems.ALL:
        if cls.key not in plan["systems"]:
            continue
        system = cls(ctx)
        why = system.unavailable()
        if why is None and system.needs_private_net and not plan["namespace"]:
            why = ("runs only inside a private network namespace (it cannot switch off DHT, "
                   "trackers and local discovery): run the benchmark as root")
        if why:
            result["skippedSystems"][cls.key] = why
            log(f"{plan['condition']}: skipping {cls.key}: {why}")
            continue
        chosen.append(system)
        result["systems"][cls.key] = {"rounds": []}
    log(f"{plan['condition']}: seeders {', '.join(sw.peers)}"
        + (f", each shaped to {swarm.NARROW_RATE_KBIT // 1000} Mbit/s" if plan["shaped"] else ""))
    try:
        for r in range(plan["rounds"]):
            ctx.round = r
            dest = os.path.join(ctx.work_dir, f"plain-{r}")
            ceiling = swarm.plain_download(sw, dest, src, timeout=src.size / 1e6 + 300)
            shutil.rmtree(dest, ignore_errors=True)
            ctx.settle()
            result["ceiling"].append(ceiling)
            ctx.log(f"plain download {ceiling['mbps']:.1f} MB/s, seeders sent "
                    f"{ceiling['seedersSentRatio']:.2f}x the file")
            for system in chosen:
                result["systems"][system.key]["rounds"].append(measure.run_system(system, ctx))
        if plan["shaped"]:
            result["shapedBytes"] = swarm.shaped_bytes()
    finally:
        for system in chosen:
            system.stop()
        sw.close()
        src.close()
    with open(plan["resultPath"], "w") as f:
        json.dump(result, f)
    return 0


def main() -> int:
    args = options()
    if args.child:
        return child_main(args.child)
    size = args.size or (16 << 20 if args.short else 1 << 30)
    rounds = args.rounds or 1
    strict = args.strict or args.short
    keys = args.systems.split(",") if args.systems else (
        ["cinemahalal", "baseline"] if args.short else SYSTEM_KEYS)
    unknown = set(keys) - set(SYSTEM_KEYS)
    if unknown:
        sys.exit(f"unknown systems: {', '.join(sorted(unknown))} (known: {', '.join(SYSTEM_KEYS)})")
    conditions = args.conditions.split(",") if args.conditions else CONDITIONS
    if set(conditions) - set(CONDITIONS):
        sys.exit(f"conditions are {', '.join(CONDITIONS)}")
    server = args.server or find_server()
    rqbit = args.rqbit or shutil.which("rqbit")
    private_net, no_net_why = probe_private_net()
    load_before = os.getloadavg()
    if load_before[0] > 1.5:
        log(f"note: load average {load_before[0]:.2f}; figures will be noisy")

    work = tempfile.mkdtemp(prefix="cinemahalal-bench-", dir=args.workdir)
    exit_code = 0
    try:
        meta = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "sizeBytes": size, "pieceBytes": source.PIECE, "rounds": rounds, "short": args.short,
            "cpus": os.cpu_count(), "kernel": os.uname().release,
            "loadBefore": [round(x, 2) for x in load_before],
            "readers": args.readers, "readerBytes": args.reader_kib * 1024,
            "seeks": args.seeks, "stallSecs": args.stall_secs,
            "gitCommit": _git("rev-parse", "HEAD"),
            "gitDirty": bool(_git("status", "--porcelain")),
        }
        import libtorrent
        meta["libtorrent"] = libtorrent.__version__
        if server:
            # A private copy: the shared target dir may be rebuilt while this runs.
            copy = os.path.join(work, "cinemahalal-server")
            shutil.copy2(server, copy)
            meta["server"] = server
            parts = server.split(os.sep)
            meta["serverProfile"] = next(
                (p for p in ("release", "debug") if p in parts), "unknown")
            meta["serverBuilt"] = datetime.datetime.fromtimestamp(
                os.path.getmtime(server), datetime.timezone.utc).isoformat(timespec="seconds")
            if meta["serverProfile"] == "debug":
                log(f"note: {server} is a debug build (dependencies optimised, our crates not)")
            server = copy
        systems_meta = {}
        for cls in systems.ALL:
            if cls.key in keys:
                systems_meta[cls.key] = {"label": cls.label, "isPeer": cls.is_peer}
        src_dir = os.path.join(work, "source")
        log(f"generating {size / (1 << 20):.0f} MiB of source data")
        digests = source.generate(src_dir, size, SEED)
        torrents = swarm.make_torrents(src_dir, digests)
        seek_rng = random.Random(SEED + 1)
        lowest = size // 4
        seek_offsets = sorted(seek_rng.randrange(lowest, size - measure.RANGE + 1)
                              for _ in range(args.seeks))
        reader_bytes = min(args.reader_kib * 1024, size // 2)
        reader_rng = random.Random(SEED + 2)
        reader_offsets = [reader_rng.randrange(0, size - reader_bytes + 1)
                          for _ in range(args.readers)]

        conditions_out = []
        for condition in conditions:
            shaped = condition == "narrow"
            if shaped and not private_net:
                line = f"narrow condition skipped: {no_net_why}"
                log(line)
                conditions_out.append({"condition": condition, "skipped": no_net_why})
                continue
            plan = {
                "condition": condition, "shaped": shaped, "namespace": private_net,
                "workDir": work, "sourceDir": src_dir, "torrents": torrents,
                "rounds": rounds, "systems": keys, "server": server, "rqbit": rqbit,
                "stallSecs": args.stall_secs, "giveUpSecs": args.give_up_secs,
                "seekOffsets": seek_offsets, "readerOffsets": reader_offsets,
                "readerBytes": reader_bytes,
                "resultPath": os.path.join(work, f"{condition}.json"),
            }
            plan_path = os.path.join(work, f"{condition}-plan.json")
            with open(plan_path, "w") as f:
                json.dump(plan, f)
            cmd = [sys.executable, os.path.abspath(__file__), "--child", plan_path]
            if private_net:
                cmd = ["unshare", "-n", "--"] + cmd
            log(f"{condition}: starting" + (" in a private network namespace"
                                             if private_net else " on the host's loopback"))
            done = subprocess.run(cmd)
            if done.returncode != 0:
                raise RuntimeError(f"the {condition} run failed (exit {done.returncode})")
            with open(plan["resultPath"]) as f:
                conditions_out.append(json.load(f))

        tools = types.SimpleNamespace(rqbit=rqbit, server=server)
        for cls in systems.ALL:
            if cls.key in systems_meta and cls.is_peer and cls(tools).unavailable() is None:
                systems_meta[cls.key]["version"] = cls(tools).version()
        # The source must still be the generator's output after everything ran.
        source.verify_file(os.path.join(src_dir, source.NAMES[0]), digests)
        meta["loadAfter"] = [round(x, 2) for x in os.getloadavg()]
        result = {"meta": meta, "systems": systems_meta, "conditions": conditions_out}
        for cond in conditions_out:
            if not cond.get("skipped"):
                report.summarize(cond, systems_meta, args.readers)
        print(report.table(result))
        print(f"(load average {meta['loadBefore'][0]:.2f} before, {meta['loadAfter'][0]:.2f} "
              f"after; {size / (1 << 20):.0f} MiB, {rounds} round(s); server "
              f"{meta.get('server', 'none')} [{meta.get('serverProfile', '-')}])")
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        print(f"JSON written to {args.out}")
        exit_code = verdict(result, strict)
    except source.WrongBytes as e:
        log(f"FAILED: wrong bytes: {e}")
        exit_code = 1
    except Exception as e:  # noqa: BLE001 - the harness failed: say so, exit 2
        log(f"FAILED: {type(e).__name__}: {e}")
        exit_code = 2
    finally:
        if args.keep:
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return exit_code


def verdict(result: dict, strict: bool) -> int:
    """1 if any system returned a wrong byte; with `strict`, also if CinemaHalal or the
    baseline failed a request, or had a reader error or stall."""
    bad = []
    for cond in result["conditions"]:
        for key, entry in cond.get("systems", {}).items():
            s = entry["summary"]
            if s.get("wrongBytes"):
                bad.append(f"{cond['condition']}/{key}: wrong bytes: {s['wrongBytes']}")
            if strict and key in ("cinemahalal", "baseline"):
                if s["failures"]:
                    bad.append(f"{cond['condition']}/{key}: {s['failures']} failed "
                               f"measurement(s)")
                for r in ("readers1", "readers4"):
                    if s.get(r) and (s[r]["errors"] or s[r]["stalls"]):
                        bad.append(f"{cond['condition']}/{key}: {r}: {s[r]['errors']} errors, "
                                   f"{s[r]['stalls']} stalls")
        if (strict and not cond.get("skipped") and "cinemahalal" in result["systems"]
                and "cinemahalal" not in cond.get("systems", {})):
            bad.append(f"{cond['condition']}: CinemaHalal did not run "
                       f"({cond.get('skippedSystems', {}).get('cinemahalal')})")
    for line in bad:
        log(f"FAILED: {line}")
    return 1 if bad else 0


def _git(*args):
    try:
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


if __name__ == "__main__":
    sys.exit(main())
