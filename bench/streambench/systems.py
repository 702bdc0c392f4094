"""The systems measured, each behind one small adapter.

An adapter starts a fresh process with a fresh data directory (`start`), makes a stream
of torrent k ready and answers its URL (`open`), reads the process's CPU time and peak
RSS, and stops it. `open` answers how long the magnet took to become a stream the
system says is ready; `None` where that has no meaning (the baseline).

- cinemahalal: the headless server; POST /api/stream with the magnet (which carries the
  seeders as x.pe); ready when it answers STREAM_READY; reads its streamUrl.
- baseline: the same binary serving the source directory through tower-http's ServeDir
  (its `--ui-dir`), so the file comes from disk with Range support, no torrent at all.
- rqbit: `rqbit server start`; POST /torrents with the magnet and the seeders as
  `initial_peers` (librqbit does not read x.pe); that answers once librqbit has the
  metadata; ready when /torrents/{id}/stats/v1 says "live" (streams fail before);
  reads /torrents/{id}/stream/0.
- peerflix: one process per torrent, the magnet on its command line, the seeders as
  `--peer`; ready when it prints "server is listening" (it listens once the torrent is
  ready); reads `/`.
- webtorrent: webtorrent-cli 4, one process per torrent, the magnet on its command line
  (webtorrent reads x.pe); its server listens at once and holds requests until the
  torrent is ready, so ready is when `HEAD /0` answers; reads /0. It has no switch for
  DHT, trackers or local discovery, so it only runs inside the private network namespace.

For the two CLI peers the magnet is handed over at process start, so their ready and
first-byte figures include starting Node (about 0.1-0.2 s); a user of those tools pays
that for every video.
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

from . import httpc
from .source import NAMES

CLK_TCK = os.sysconf("SC_CLK_TCK")


_handed_out = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, and not handed out before in this run."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def clean_env() -> dict:
    """The environment without settings that would change what the systems do."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CINEMAHALAL_", "RQBIT_")) and k not in ("PORT", "PUBLIC_URL")}
    for k in list(env):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del env[k]
    return env


class Proc:
    """A child process whose output goes to a log file."""

    def __init__(self, args, log_path, env=None, watch=None):
        self.args = args
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.lines = []
        self.event = threading.Event()
        self.watch = watch
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env or clean_env(),
                                  start_new_session=True)
        self.pid = self.p.pid
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        for line in self.p.stdout:
            self.log.write(line)
            if self.watch is not None and not self.event.is_set():
                text = line.decode("utf-8", "replace")
                if self.watch(text):
                    self.lines.append(text)
                    self.event.set()
        self.event.set()

    def alive(self) -> bool:
        return self.p.poll() is None

    def tail(self) -> str:
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read()[-600:].decode("utf-8", "replace").strip()

    def stats(self) -> dict:
        """CPU seconds (user + system, waited-for children included) and peak RSS."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK
        hwm = 0
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
        return {"cpuS": cpu, "peakRssMiB": hwm / (1 << 20)}

    def stop(self) -> dict:
        """Reads the stats, then kills the process: how a system shuts down is not
        measured, and waiting for graceful exits would only make runs longer."""
        stats = None
        if self.alive():
            try:
                stats = self.stats()
            except OSError:
                pass
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.p.wait()
        self.reader.join(5)
        self.log.close()
        return stats


def wait_http(url: str, proc: Proc, timeout: float = 30.0, method: str = "GET") -> None:
    """Polls `url` until it answers 200 (the process must stay alive)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.args[0]} exited: {proc.tail()}")
        try:
            r = httpc.request(url, method, give_up_secs=timeout, stall_secs=timeout,
                              connect_timeout=1)
            if r.status == 200:
                return
            last = f"status {r.status}"
        except httpc.HttpError as e:
            last = str(e)
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s ({last})")


class System:
    key = ""
    label = ""
    multi_stream = True  # can one process serve four torrents?
    needs_private_net = False
    is_peer = False  # another streaming tool (not ours, not the baseline)

    def __init__(self, ctx):
        self.ctx = ctx  # .swarm, .source_dir, .server, .rqbit, .log_dir
        self.procs = []
        self.data_dir = None

    def unavailable(self):
        """None, or why this system cannot run and how to install it."""
        return None

    def version(self):
        return None

    def start(self, data_dir: str) -> None:
        self.data_dir = data_dir

    def open(self, k: int):
        """Makes torrent k's stream ready: (seconds from magnet to ready or None, URL)."""
        raise NotImplementedError

    def downloaded(self, url: str):
        """Bytes of the file at `url` that the system has downloaded and checked, or None
        if it has no way to say (then its download alone is not measured)."""
        return None

    def stop(self) -> dict:
        """Stops every process; answers the first process's CPU seconds and peak RSS."""
        stats = [p.stop() for p in self.procs]
        self.procs = []
        stats = [s for s in stats if s]
        if not stats:
            return None
        return {"cpuS": sum(s["cpuS"] for s in stats),
                "peakRssMiB": max(s["peakRssMiB"] for s in stats)}

    def _log(self, what: str) -> str:
        self.ctx.log_seq += 1
        return os.path.join(self.ctx.log_dir, f"{self.ctx.log_seq:04d}-{self.key}-{what}.log")


class CinemaHalal(System):
    key = "cinemahalal"
    label = "CinemaHalal"

    def unavailable(self):
        if not self.ctx.server or not os.access(self.ctx.server, os.X_OK):
            return ("no cinemahalal-server binary (build it: cargo build --release -p "
                    "cinemahalal-server, or pass --server PATH)")
        return None

    def _args(self, port: int) -> list:
        return [self.ctx.server, "--port", str(port), "--bind", "127.0.0.1",
                "--data-dir", self.data_dir, "--no-dht", "--no-local-discovery",
                "--peer-listen", "127.0.0.1:0",
                "--search-config", os.path.join(self.data_dir, "search.toml")]

    def start(self, data_dir: str) -> None:
        super().start(data_dir)
        self.port = free_port()
        proc = Proc(self._args(self.port), self._log("server"))
        self.procs.append(proc)
        wait_http(f"http://127.0.0.1:{self.port}/api/health", proc)

    def open(self, k: int):
        t0 = time.monotonic()
        status, answer = httpc.json_request(f"http://127.0.0.1:{self.port}/api/stream", "POST",
                                            {"magnet": self.ctx.swarm.magnet(k)})
        ready = time.monotonic() - t0
        if status != 200 or not answer or answer.get("status") != "STREAM_READY":
            raise RuntimeError(f"POST /api/stream answered {status}: {answer}")
        _, _, path = httpc.split_url(answer["streamUrl"])
        return ready, f"http://127.0.0.1:{self.port}{path}"

    def downloaded(self, url: str):
        # The stream's URL is /api/stream/{infoHash}?token=...; its status is beside it.
        path, _, query = httpc.split_url(url)[2].partition("?")
        status, answer = httpc.json_request(
            f"http://127.0.0.1:{self.port}{path}/status" + (f"?{query}" if query else ""))
        if status != 200 or not answer or "downloadedBytes" not in answer:
            raise RuntimeError(f"GET {path}/status answered {status}: {answer}")
        return answer["downloadedBytes"]


class Baseline(CinemaHalal):
    key = "baseline"
    label = "baseline (ServeDir)"

    def _args(self, port: int) -> list:
        return super()._args(port) + ["--ui-dir", self.ctx.source_dir]

    def open(self, k: int):
        return None, f"http://127.0.0.1:{self.port}/{NAMES[k]}"

    def downloaded(self, url: str):
        return None


class Rqbit(System):
    key = "rqbit"
    label = "rqbit server"
    is_peer = True

    def unavailable(self):
        if not self.ctx.rqbit:
            return "rqbit is not installed (cargo install rqbit, or pass --rqbit PATH)"
        return None

    def version(self):
        return _version([self.ctx.rqbit, "--version"])

    def start(self, data_dir: str) -> None:
        super().start(data_dir)
        self.port = free_port()
        args = [self.ctx.rqbit, "--disable-dht", "--disable-dht-persistence",
                "--disable-upnp-port-forward", "--disable-lsd", "--disable-trackers",
                "--listen-ip", "127.0.0.1", "--listen-port", str(free_port()),
                "--http-api-listen-addr", f"127.0.0.1:{self.port}",
                "server", "start", "--disable-persistence", os.path.join(data_dir, "downloads")]
        proc = Proc(args, self._log("server"))
        self.procs.append(proc)
        wait_http(f"http://127.0.0.1:{self.port}/", proc)

    def open(self, k: int):
        peers = ",".join(self.ctx.swarm.peers)
        t0 = time.monotonic()
        status, answer = httpc.json_request(
            f"http://127.0.0.1:{self.port}/torrents?overwrite=true&initial_peers={peers}",
            "POST", body=self.ctx.swarm.magnet(k).encode(), content_type="text/plain")
        if status != 200 or not answer or answer.get("id") is None:
            raise RuntimeError(f"POST /torrents answered {status}: {answer}")
        base = f"http://127.0.0.1:{self.port}/torrents/{answer['id']}"
        # A torrent streams once live; right after the add it may still be initializing.
        deadline = t0 + 120
        while True:
            status, stats = httpc.json_request(f"{base}/stats/v1")
            state = stats.get("state") if status == 200 and stats else None
            if state == "live":
                break
            if state not in ("initializing", None) or time.monotonic() > deadline:
                raise RuntimeError(f"rqbit torrent state {state!r}: {stats}")
            time.sleep(0.005)
        return time.monotonic() - t0, f"{base}/stream/0"

    def downloaded(self, url: str):
        base = url.rsplit("/stream/", 1)[0]
        status, stats = httpc.json_request(f"{base}/stats/v1")
        if status != 200 or not stats or "progress_bytes" not in stats:
            raise RuntimeError(f"rqbit stats answered {status}: {stats}")
        return stats["progress_bytes"]


class Peerflix(System):
    key = "peerflix"
    label = "peerflix"
    multi_stream = False
    is_peer = True

    def unavailable(self):
        if not shutil.which("peerflix"):
            return "peerflix is not installed (npm install -g peerflix)"
        return None

    def version(self):
        return _version(["peerflix", "--version"])

    def open(self, k: int):
        port = free_port()
        args = ["peerflix", self.ctx.swarm.magnet(k), "--quiet", "--port", str(port),
                "--hostname", "127.0.0.1", "--path", os.path.join(self.data_dir, str(k)),
                "--peer-port", str(free_port()), "--no-dht", "--no-tracker"]
        for peer in self.ctx.swarm.peers:
            args += ["--peer", peer]
        t0 = time.monotonic()
        proc = Proc(args, self._log(f"torrent{k}"),
                    watch=lambda line: "server is listening on" in line)
        self.procs.append(proc)
        if not proc.event.wait(120) or not proc.lines:
            raise RuntimeError(f"peerflix did not start its server: {proc.tail()}")
        ready = time.monotonic() - t0
        href = proc.lines[0].split("server is listening on", 1)[1].strip()
        _, real_port, _ = httpc.split_url(href)
        return ready, f"http://127.0.0.1:{real_port}/"


class WebTorrent(System):
    key = "webtorrent"
    label = "webtorrent-cli"
    multi_stream = False
    needs_private_net = True
    is_peer = True

    def unavailable(self):
        if not shutil.which("webtorrent"):
            return "webtorrent-cli is not installed (npm install -g webtorrent-cli@4; Node 20)"
        return None

    def version(self):
        return _version(["webtorrent", "--version"])

    def open(self, k: int):
        port = free_port()
        args = ["webtorrent", "download", self.ctx.swarm.magnet(k), "--quiet",
                "--out", os.path.join(self.data_dir, str(k)), "--port", str(port),
                "--torrent-port", str(free_port()), "--keep-seeding"]
        t0 = time.monotonic()
        proc = Proc(args, self._log(f"torrent{k}"))
        self.procs.append(proc)
        wait_http(f"http://127.0.0.1:{port}/0", proc, timeout=120, method="HEAD")
        return time.monotonic() - t0, f"http://127.0.0.1:{port}/0"


ALL = [Baseline, CinemaHalal, Rqbit, Peerflix, WebTorrent]


def _version(args):
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=20,
                              env=clean_env())
        out = (done.stdout.strip() or done.stderr.strip())  # peerflix prints to stderr
        return out.splitlines()[0] if out else None
    except (OSError, subprocess.TimeoutExpired):
        return None
