"""The measurements of one system in one round, each on fresh server processes.

- cold start: magnet -> ready, and magnet -> first byte of `bytes=0-65535`, on each of
  the round's ten seek servers (ready also on the sequential one); p50.
- seek: on each of ten fresh servers, after the cold start, the first byte of a 64 KiB
  range at a fixed pseudo-random offset in the file's last three quarters (not yet
  downloaded: nothing has asked for it); p50 and p95 of the ten.
- sequential: a fresh server, the stream made ready, then at once the whole file in one
  GET; MB/s (10^6 bytes) from that request to the last byte, as the plain download's is
  from its metadata to its last piece (start-up is what the cold start measures). The server's CPU seconds (user +
  system, children included) per GiB of file and its peak RSS (VmHWM) are read just
  before it is stopped; the seeders' payload sent meanwhile is divided by the file size.
  The reader's own CPU seconds per GiB (the receive and the byte check) are kept too.
- download alone: the same as sequential with no read; the system's progress (its status
  API) is polled until the whole file is downloaded; MB/s from ready to that, and CPU.
  What serving the bytes costs is the difference. Only for systems that report progress
  (CinemaHalal, rqbit).
- concurrent readers: a fresh server, streams made ready, then 64 readers at once, each
  a 256 KiB range at a fixed pseudo-random offset (one stream, or four streams with 16
  readers each); errors, stalls (a reader that got no byte for --stall-secs) and the p95
  of their first bytes.
Every byte read is checked against the source.
"""

import os
import shutil
import statistics
import threading
import time
import traceback

from . import httpc
from .source import WrongBytes

RANGE = 64 * 1024
# How often the download alone asks for the system's progress: its figure is late by at
# most this much (0.6 % of a 1 GiB download at 600 MB/s).
POLL_SECS = 0.01


def percentile(values: list, q: float):
    """Linearly interpolated percentile (numpy's default); None without values."""
    if not values:
        return None
    values = sorted(values)
    pos = (len(values) - 1) * q
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


class Session:
    """A fresh process of `system` with a fresh data directory, for one measurement."""

    def __init__(self, system, ctx, what: str):
        self.system = system
        self.ctx = ctx
        self.dir = os.path.join(ctx.work_dir, f"{system.key}-{what}-{ctx.next_id()}")
        self.stats = None

    def __enter__(self):
        os.makedirs(self.dir)
        try:
            self.system.start(self.dir)
        except BaseException:
            self.system.stop()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc):
        self.stats = self.system.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.ctx.settle()
        return False


def _ms(seconds):
    return None if seconds is None else seconds * 1000


def cold_start(system, ctx, k: int = 0) -> tuple:
    """Opens torrent k and reads bytes 0-65535: (ready s or None, first byte s, URL).
    The first byte counts from handing over the magnet; for the baseline, which has
    no magnet, from sending the read."""
    t0 = time.monotonic()
    ready, url = system.open(k)
    r = httpc.read_range(url, ctx.source, 0, min(RANGE, ctx.source.size) - 1,
                         file_size=ctx.source.size, stall_secs=ctx.stall_secs,
                         give_up_secs=ctx.give_up_secs)
    if ready is None:
        t0 = r.t_sent
    return ready, r.t_first - t0, url


def run_system(system, ctx) -> dict:
    """One round of every measurement; failures are recorded, not raised, except
    WrongBytes which ends the system's round (and fails the run)."""
    out = {"failures": []}
    cold_ready, cold_first = [], []
    size = ctx.source.size

    def failed(phase, e):
        msg = f"{phase}: {e}"
        out["failures"].append(msg)
        ctx.log(f"{system.key}: FAILED {msg}")
        if not isinstance(e, (RuntimeError, httpc.HttpError, OSError)):
            ctx.log(traceback.format_exc())

    try:
        seeks = []
        for i, offset in enumerate(ctx.seek_offsets):
            try:
                with Session(system, ctx, "seek"):
                    ready, first, url = cold_start(system, ctx)
                    last = min(offset + RANGE, size) - 1
                    r = httpc.read_range(url, ctx.source, offset, last, file_size=size,
                                         stall_secs=ctx.stall_secs,
                                         give_up_secs=ctx.give_up_secs)
                cold_ready.append(ready)
                cold_first.append(first)
                seeks.append(r.first_byte_s)
                ctx.log(f"{system.key}: seek {i + 1}/{len(ctx.seek_offsets)} at {offset}: "
                        f"{r.first_byte_s * 1000:.0f} ms (first byte {first * 1000:.0f} ms)")
            except WrongBytes:
                raise
            except Exception as e:  # noqa: BLE001 - recorded, the round goes on
                failed(f"seek at {offset}", e)
        out["seekP50Ms"] = _ms(percentile(seeks, 0.5))
        out["seekP95Ms"] = _ms(percentile(seeks, 0.95))
        out["seekSamplesMs"] = [s * 1000 for s in seeks]

        try:
            sent_before = ctx.swarm.sent()
            with Session(system, ctx, "seq") as session:
                # Straight from ready to the whole file: nothing read before it gives
                # the engine a head start.
                ready, url = system.open(0)
                reader_cpu = time.thread_time()
                r = httpc.read_whole(url, ctx.source, stall_secs=ctx.stall_secs,
                                     give_up_secs=ctx.give_up_secs)
                reader_cpu = time.thread_time() - reader_cpu
            cold_ready.append(ready)
            # The transfer alone, as the plain download's figure is from its metadata
            # on: start-up is what the ready and first-byte figures measure.
            out["seqMBps"] = size / (r.t_end - r.t_sent) / 1e6
            out["readerCpuSPerGiB"] = reader_cpu / (size / (1 << 30))
            if session.stats:
                out["cpuSPerGiB"] = session.stats["cpuS"] / (size / (1 << 30))
                out["peakRssMiB"] = session.stats["peakRssMiB"]
            if system.key != "baseline":
                out["seedersSentRatio"] = (ctx.swarm.sent() - sent_before) / size
            ctx.log(f"{system.key}: sequential {out['seqMBps']:.1f} MB/s, "
                    f"{out.get('cpuSPerGiB', 0):.2f} CPU-s/GiB, "
                    f"{out.get('peakRssMiB', 0):.0f} MiB RSS, seeders sent "
                    f"{out.get('seedersSentRatio', 0):.2f}x the file")
        except WrongBytes:
            raise
        except Exception as e:  # noqa: BLE001
            failed("sequential", e)

        try:
            download_alone(system, ctx, out)
        except Exception as e:  # noqa: BLE001
            failed("download alone", e)

        ready_values = [r for r in cold_ready if r is not None]
        out["readyMs"] = _ms(percentile(ready_values, 0.5))
        out["firstByteMs"] = _ms(percentile(cold_first, 0.5))

        for streams, key in ((1, "readers1"), (4, "readers4")):
            if streams > 1 and not system.multi_stream:
                out[key] = None
                continue
            try:
                with Session(system, ctx, f"readers{streams}"):
                    out[key] = concurrent(system, ctx, streams)
                c = out[key]
                ctx.log(f"{system.key}: {len(ctx.reader_offsets)} readers on {streams} "
                        f"stream(s): {c['errors']} errors, {c['stalls']} stalls, p95 first "
                        f"byte {c['firstByteP95Ms'] or 0:.0f} ms")
            except WrongBytes:
                raise
            except Exception as e:  # noqa: BLE001
                failed(f"{streams}-stream readers", e)
    except WrongBytes as e:
        out["wrongBytes"] = str(e)
        ctx.log(f"{system.key}: WRONG BYTES: {e}")
    return out


def download_alone(system, ctx, out: dict) -> None:
    """The sequential read's download without the read: a fresh server, the stream made
    ready, then its progress polled until the whole file is downloaded. Sets downloadMBps
    and downloadCpuSPerGiB in `out`, unless the system cannot say what it has downloaded."""
    size = ctx.source.size
    with Session(system, ctx, "download") as session:
        _, url = system.open(0)
        t0 = time.monotonic()
        done = system.downloaded(url)
        if done is None:
            return
        last, t_last = done, t0
        while done < size:
            time.sleep(POLL_SECS)
            done = system.downloaded(url)
            now = time.monotonic()
            if done > last:
                last, t_last = done, now
            elif now - t_last > ctx.give_up_secs:
                raise RuntimeError(f"the download stopped at {done} of {size} bytes "
                                   f"for {ctx.give_up_secs:.0f} s")
        t_end = time.monotonic()
    out["downloadMBps"] = size / (t_end - t0) / 1e6
    if session.stats:
        out["downloadCpuSPerGiB"] = session.stats["cpuS"] / (size / (1 << 30))
    ctx.log(f"{system.key}: download alone {out['downloadMBps']:.1f} MB/s, "
            f"{out.get('downloadCpuSPerGiB', 0):.2f} CPU-s/GiB")


def concurrent(system, ctx, streams: int) -> dict:
    """64 readers at once on `streams` streams; every byte checked."""
    urls = [system.open(k)[1] for k in range(streams)]
    size = ctx.source.size
    n = len(ctx.reader_offsets)
    barrier = threading.Barrier(n)
    firsts, errors, wrong = [], [], []
    stalls = [0]
    lock = threading.Lock()

    def reader(i, offset):
        url = urls[i % streams]
        last = min(offset + ctx.reader_bytes, size) - 1
        barrier.wait()
        try:
            r = httpc.read_range(url, ctx.source, offset, last, file_size=size,
                                 stall_secs=ctx.stall_secs, give_up_secs=ctx.give_up_secs)
            with lock:
                firsts.append(r.first_byte_s)
                stalls[0] += r.stalled
        except WrongBytes as e:
            with lock:
                wrong.append(e)
        except httpc.HttpError as e:
            with lock:
                errors.append(str(e))
                stalls[0] += str(e).startswith("no byte for")

    threads = [threading.Thread(target=reader, args=(i, off), daemon=True)
               for i, off in enumerate(ctx.reader_offsets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(ctx.give_up_secs * 4)
    if wrong:
        raise wrong[0]
    hung = sum(t.is_alive() for t in threads)
    return {
        "errors": len(errors) + hung,
        "stalls": stalls[0] + hung,
        "firstByteP95Ms": _ms(percentile(firsts, 0.95)),
        "firstByteP50Ms": _ms(percentile(firsts, 0.5)),
        "errorSamples": sorted(set(errors))[:5],
    }


def median_of(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
