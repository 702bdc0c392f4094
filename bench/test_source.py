"""Unit tests of the benchmark's byte check (`streambench.source` through
`streambench.httpc`): every byte a system returns is compared with the source, in the
buffer each receive reuses, and the first wrong one is named.

Run: `python3 bench/test_source.py` (prints "N passed, N failed")."""

import http.server
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streambench import httpc, source  # noqa: E402

SIZE = 3 * (1 << 20) + 12345  # several receive buffers, and a partial last one


class _Files(http.server.BaseHTTPRequestHandler):
    """Serves `data` whole or by `Range: bytes=a-b`, with byte `flip` (if any) inverted."""

    data = b""
    flip = None

    def do_GET(self):  # noqa: N802 - the stdlib's name
        body = bytearray(self.data)
        if self.flip is not None:
            body[self.flip] ^= 0xFF
        first, last = 0, len(body) - 1
        wanted = self.headers.get("Range")
        if wanted:
            a, b = wanted.removeprefix("bytes=").split("-")
            first, last = int(a), int(b)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        self.wfile.write(body[first:last + 1])

    def log_message(self, *args):
        pass


class Check(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        path = os.path.join(cls.dir.name, "source.mkv")
        cls.data = b"".join(source.block(7, i, min(source.PIECE, SIZE - i * source.PIECE))
                            for i in range((SIZE + source.PIECE - 1) // source.PIECE))
        with open(path, "wb") as f:
            f.write(cls.data)
        cls.source = source.Source(path)
        _Files.data = cls.data
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}/source.mkv"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.source.close()
        cls.dir.cleanup()

    def setUp(self):
        _Files.flip = None

    def _whole(self):
        return httpc.read_whole(self.url, self.source, stall_secs=5, give_up_secs=5)

    def test_the_whole_file_as_served_passes(self):
        self.assertEqual(self._whole().length, SIZE)

    def test_a_wrong_byte_in_a_later_receive_is_named(self):
        _Files.flip = 2 * (1 << 20) + 777
        with self.assertRaisesRegex(source.WrongBytes, f"byte {_Files.flip} is "):
            self._whole()

    def test_a_wrong_last_byte_is_named(self):
        _Files.flip = SIZE - 1
        with self.assertRaisesRegex(source.WrongBytes, f"byte {SIZE - 1} is "):
            self._whole()

    def test_a_range_is_checked_at_its_own_offset(self):
        first = (1 << 20) + 5
        r = httpc.read_range(self.url, self.source, first, first + 65535, file_size=SIZE,
                             stall_secs=5, give_up_secs=5)
        self.assertEqual(r.length, 65536)
        _Files.flip = first + 100
        with self.assertRaisesRegex(source.WrongBytes, f"byte {first + 100} is "):
            httpc.read_range(self.url, self.source, first, first + 65535, file_size=SIZE,
                             stall_secs=5, give_up_secs=5)

    def test_the_right_bytes_at_the_wrong_offset_fail(self):
        with self.assertRaises(source.WrongBytes):
            self.source.check(1, bytearray(self.data[:4096]))
        with self.assertRaises(source.WrongBytes):
            self.source.check(1, self.data[:4096])

    def test_read_only_and_writable_buffers_are_checked_alike(self):
        piece = self.data[5000:9000]
        self.source.check(5000, piece)
        self.source.check(5000, bytearray(piece))
        self.source.check(5000, memoryview(bytearray(piece))[:100])
        with self.assertRaises(source.WrongBytes):
            self.source.check(SIZE - 10, bytearray(20))  # runs past the end


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
