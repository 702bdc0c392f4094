"""The local swarm: torrents, libtorrent seeders, the plain-download ceiling, shaping.

libtorrent (Debian's python3-libtorrent, the library under qBittorrent) seeds; a separate
libtorrent session downloading the whole torrent is the swarm's ceiling. DHT, local
discovery, UPnP and NAT-PMP are off; the magnet carries the seeders' addresses (`x.pe`).
"""

import os
import subprocess
import time

import libtorrent as lt

from .source import NAMES, PIECE, WrongBytes

# Shaped upload per seeder in the narrow condition, kbit/s (25 Mbit/s).
NARROW_RATE_KBIT = 25_000
NARROW_SEEDERS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
UNSHAPED_SEEDERS = ["127.0.0.2"]

_QUIET = {
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    # Every client of this benchmark is 127.0.0.1: one connection per IP would
    # refuse a fresh server while the previous one's connection is closing.
    "allow_multiple_connections_per_ip": True,
    # TCP only: libtorrent's uTP tops out at a few MB/s on loopback, which would make
    # the "ceiling" a uTP benchmark. librqbit, peerflix and webtorrent-cli (without its
    # optional native uTP module) use TCP too.
    "enable_outgoing_utp": False,
    "enable_incoming_utp": False,
    "alert_mask": lt.alert.category_t.error_notification
    | lt.alert.category_t.status_notification,
}


def make_torrents(directory: str, digests: list) -> list:
    """Writes one v1 .torrent (1 MiB pieces) per name; returns their paths.

    Raises WrongBytes unless libtorrent's piece hashes, computed from the disk, are the
    generator's: so the file being seeded is exactly the generated one.
    """
    paths = []
    for name in NAMES:
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(directory, name))
        t = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
        t.set_creator("cinemahalal stream benchmark")
        lt.set_piece_hashes(t, directory)
        data = lt.bencode(t.generate())
        info = lt.torrent_info(lt.bdecode(data))
        hashes = [info.hash_for_piece(i).hex() for i in range(info.num_pieces())]
        if hashes != digests:
            raise WrongBytes(f"{name} on disk is not the generator's output")
        path = os.path.join(directory, name + ".torrent")
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    return paths


class Swarm:
    """One libtorrent session per seeder address, each seeding every torrent."""

    def __init__(self, data_dir: str, torrent_paths: list, addresses: list):
        self.infos = [lt.torrent_info(p) for p in torrent_paths]
        self.sessions = []
        self.handles = []
        self.peers = []
        for ip in addresses:
            settings = lt.high_performance_seed()
            settings.update(_QUIET)
            settings["listen_interfaces"] = f"{ip}:0"
            settings["outgoing_interfaces"] = ip
            session = lt.session(settings)
            for info in self.infos:
                atp = lt.add_torrent_params()
                atp.ti = info
                atp.save_path = data_dir
                # The file is known to match the piece hashes (make_torrents checked
                # it): resume as complete instead of hashing it once per seeder.
                atp.have_pieces = [True] * info.num_pieces()
                self.handles.append(session.add_torrent(atp))
            self.sessions.append(session)
        deadline = time.monotonic() + 60
        while not all(h.status().is_seeding for h in self.handles):
            if time.monotonic() > deadline:
                raise RuntimeError("the seeders did not start seeding within 60 s")
            time.sleep(0.02)
        for ip, session in zip(addresses, self.sessions):
            self.peers.append(f"{ip}:{session.listen_port()}")

    def info_hash(self, k: int) -> str:
        return str(self.infos[k].info_hashes().v1)

    def magnet(self, k: int) -> str:
        """The magnet of torrent `k`, with every seeder as `x.pe`."""
        return lt.make_magnet_uri(self.infos[k]) + "".join(f"&x.pe={p}" for p in self.peers)

    def sent(self) -> int:
        """Payload bytes the seeders have sent so far, all torrents. libtorrent adds a
        connection's bytes to its torrent's total once a second, so this first lets
        a second go by."""
        time.sleep(1.2)
        return sum(h.status().all_time_upload for h in self.handles)

    def close(self) -> None:
        for session in self.sessions:
            for h in session.get_torrents():
                session.remove_torrent(h)
        self.sessions.clear()
        self.handles.clear()


def plain_download(swarm: Swarm, dest: str, source, timeout: float) -> dict:
    """The ceiling: libtorrent downloads torrent 0 whole, with default settings."""
    settings = dict(_QUIET)
    settings["listen_interfaces"] = "127.0.0.1:0"
    # The storage category carries the cache_flushed_alert waited for below.
    settings["alert_mask"] = _QUIET["alert_mask"] | lt.alert.category_t.storage_notification
    session = lt.session(settings)
    sent_before = swarm.sent()
    try:
        atp = lt.parse_magnet_uri(swarm.magnet(0))
        atp.save_path = dest
        t_add = time.monotonic()
        handle = session.add_torrent(atp)
        t_metadata = None
        t_done = None
        deadline = t_add + timeout
        while t_done is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the plain download did not finish in {timeout:.0f} s")
            session.wait_for_alert(100)
            for alert in session.pop_alerts():
                if isinstance(alert, lt.metadata_received_alert) and t_metadata is None:
                    t_metadata = time.monotonic()
                elif isinstance(alert, lt.torrent_finished_alert):
                    t_done = time.monotonic()
                elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                    raise RuntimeError(f"plain download: {alert.message()}")
        if t_metadata is None:
            t_metadata = t_add
        # libtorrent says finished once every piece is hashed, which can be before its
        # last writes reach the file: they are flushed before the file is checked.
        handle.flush_cache()
        flushed = False
        flush_deadline = time.monotonic() + 60
        while not flushed:
            if time.monotonic() > flush_deadline:
                raise RuntimeError("the plain download's writes were not flushed in 60 s")
            session.wait_for_alert(100)
            flushed = any(isinstance(a, lt.cache_flushed_alert) for a in session.pop_alerts())
        session.pause()
        session.remove_torrent(handle)
        source.check_file(os.path.join(dest, NAMES[0]))
        return {
            # From the metadata on: libtorrent connects to peers on its next tick, up
            # to half a second after the add, which would dominate small files.
            "mbps": source.size / (t_done - t_metadata) / 1e6,
            "metadataMs": (t_metadata - t_add) * 1000,
            "totalS": t_done - t_add,
            "seedersSentRatio": (swarm.sent() - sent_before) / source.size,
        }
    finally:
        del session


def _run(*args: str) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def setup_namespace(shaped: bool) -> None:
    """In a fresh network namespace: loopback up and, when `shaped`, each narrow seeder's
    upload limited by htb to 25 Mbit/s (a class per seeder, a u32 filter on its source
    address; other traffic is unclassified and passes unshaped)."""
    _run("ip", "link", "set", "lo", "up")
    if not shaped:
        return
    # A link's MTU, so htb meters packets of a realistic size.
    _run("ip", "link", "set", "lo", "mtu", "1500")
    _run("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb")
    for i, ip in enumerate(NARROW_SEEDERS):
        classid = f"1:{10 + i}"
        _run("tc", "class", "add", "dev", "lo", "parent", "1:", "classid", classid, "htb",
             "rate", f"{NARROW_RATE_KBIT}kbit", "ceil", f"{NARROW_RATE_KBIT}kbit",
             "quantum", "1514")
        _run("tc", "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1",
             "u32", "match", "ip", "src", f"{ip}/32", "flowid", classid)


def shaped_bytes() -> dict:
    """Bytes each htb class has sent (the seeders' upload on the wire, headers included)."""
    out = subprocess.run(["tc", "-s", "class", "show", "dev", "lo"], check=True,
                         capture_output=True, text=True).stdout
    result = {}
    current = None
    for line in out.splitlines():
        words = line.split()
        if words[:2] == ["class", "htb"]:
            current = words[2]
        elif words[:1] == ["Sent"] and current:
            result[current] = int(words[1])
    return result


def shaped_backlog() -> int:
    """Packets queued in the shaping qdiscs (maybe for connections already gone)."""
    out = subprocess.run(["tc", "-s", "qdisc", "show", "dev", "lo"], check=True,
                         capture_output=True, text=True).stdout
    total = 0
    for line in out.splitlines():
        words = line.split()
        if words[:1] == ["backlog"]:
            total += int(words[2].rstrip("p"))
    return total
