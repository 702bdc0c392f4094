"""The file every system streams: generated from a seed, checked byte for byte.

Block `i` (1 MiB, the piece size) is SHAKE-128 of the seed and `i`, so the content is
known without a second copy. The file is written once; its SHA-1 per block is kept and
must equal the piece hashes libtorrent computes from the disk when it makes the
torrents, which proves the file on disk is the generator's output. Every byte a system
returns is then compared with that file where it lies in memory: the file is mapped
and libc's memcmp compares the received buffer with the mapped bytes, with no copy of
either, so the measuring side costs little beside the systems it measures (on a two-core
machine every copy it makes slows them down). At the end the file is checked against
the generator's hashes again.
"""

import ctypes
import hashlib
import mmap
import os

PIECE = 1 << 20
# Four names for the same bytes (hard links): four torrents with four info hashes,
# for the four-stream reader test. `.mkv` so every system takes it for a video.
NAMES = ["bench.mkv", "bench-2.mkv", "bench-3.mkv", "bench-4.mkv"]


_memcmp = ctypes.CDLL(None).memcmp
_memcmp.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
_memcmp.restype = ctypes.c_int


class WrongBytes(Exception):
    """A system returned bytes that differ from the source."""


def block(seed: int, index: int, length: int) -> bytes:
    """The generator: block `index` of the file, `length` bytes."""
    return hashlib.shake_128(
        b"cinemahalal-bench" + seed.to_bytes(8, "little") + index.to_bytes(8, "little")
    ).digest(length)


def generate(directory: str, size: int, seed: int) -> list:
    """Writes the file and its hard links; returns the SHA-1 of each 1 MiB block (hex)."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, NAMES[0])
    digests = []
    with open(path, "wb") as f:
        for i in range((size + PIECE - 1) // PIECE):
            data = block(seed, i, min(PIECE, size - i * PIECE))
            digests.append(hashlib.sha1(data).hexdigest())
            f.write(data)
    for name in NAMES[1:]:
        link = os.path.join(directory, name)
        if os.path.exists(link):
            os.unlink(link)
        os.link(path, link)
    return digests


def verify_file(path: str, digests: list) -> None:
    """Raises WrongBytes unless the file at `path` is the generator's output."""
    size = os.path.getsize(path)
    expected = (len(digests) - 1) * PIECE
    if not digests or size <= expected or size > expected + PIECE:
        raise WrongBytes(f"{path}: {size} bytes, not the generated file's length")
    with open(path, "rb") as f:
        for i, digest in enumerate(digests):
            if hashlib.sha1(f.read(PIECE)).hexdigest() != digest:
                raise WrongBytes(f"{path}: piece {i} differs from the generator's")


class Source:
    """The generated file, mapped, to check what systems return."""

    def __init__(self, path: str):
        self.path = path
        self._file = open(path, "rb")
        self.size = os.fstat(self._file.fileno()).st_size
        # A private mapping that is never written: it shares the page cache's pages, and
        # being writable it lets ctypes take its address for memcmp.
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_COPY)
        self._anchor = ctypes.c_char.from_buffer(self._map)
        self._base = ctypes.addressof(self._anchor)

    def check(self, offset: int, data) -> None:
        """Raises WrongBytes unless `data` (bytes or a buffer) is the source's bytes at
        `offset`. A writable buffer (a bytearray, a memoryview of one) is compared where
        it lies; a read-only one through a copy of the source's bytes."""
        view = memoryview(data).cast("B")
        end = offset + view.nbytes
        if offset < 0 or end > self.size:
            raise WrongBytes(f"{view.nbytes} bytes at {offset} run past the file's {self.size}")
        if not view.nbytes:
            return
        if view.readonly:
            same = self._map[offset:end] == view.tobytes()
        else:
            anchor = ctypes.c_char.from_buffer(view)
            same = _memcmp(self._base + offset, ctypes.addressof(anchor), view.nbytes) == 0
            del anchor
        if not same:
            expected = self._map[offset:end]
            at = next(i for i in range(view.nbytes) if expected[i] != view[i])
            raise WrongBytes(
                f"byte {offset + at} is {view[at]:#04x}, the source has {expected[at]:#04x}"
            )

    def check_file(self, path: str) -> None:
        """Raises WrongBytes unless the file at `path` equals the source."""
        size = os.path.getsize(path)
        if size != self.size:
            raise WrongBytes(f"{path}: {size} bytes, the source has {self.size}")
        buf = memoryview(bytearray(8 * PIECE))
        with open(path, "rb") as f:
            offset = 0
            while offset < size:
                n = f.readinto(buf)
                if not n:
                    raise WrongBytes(f"{path}: ends at {offset} of {size} bytes")
                self.check(offset, buf[:n])
                offset += n

    def close(self) -> None:
        del self._anchor  # the mapping cannot close while ctypes holds its buffer
        self._map.close()
        self._file.close()
