"""Unit tests of the benchmark's summary (`streambench.report`): which peer is the best,
and which targets a run can judge.

Run: `python3 bench/test_report.py` (prints "N passed, N failed")."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streambench import report  # noqa: E402


def _round(seq, p95, errors=0, stalls=0):
    readers = {"errors": errors, "stalls": stalls, "firstByteP95Ms": p95}
    return {"seqMBps": seq, "readers1": readers, "readers4": dict(readers)}


def _condition(**systems):
    return {
        "condition": "unshaped",
        "ceiling": [{"mbps": 500.0, "seedersSentRatio": 1.0}],
        "systems": {k: {"rounds": [r]} for k, r in systems.items()},
    }


META = {k: {"isPeer": k != "cinemahalal", "label": k}
        for k in ("cinemahalal", "rqbit", "peerflix")}


def _best(condition, figure):
    return next(r for r in condition["vsBestPeer"] if r["figure"] == figure)


class BestPeer(unittest.TestCase):
    def test_a_peer_whose_readers_failed_is_not_the_best_at_serving_them(self):
        c = report.summarize(_condition(
            cinemahalal=_round(300, 200),
            rqbit=_round(310, 50, errors=58, stalls=64),
            peerflix=_round(90, 800)), META)
        readers = _best(c, "readers1.firstByteP95Ms")
        self.assertEqual(readers["bestPeer"], "peerflix")
        self.assertEqual(readers["ratio"], 200 / 800)

    def test_a_stall_alone_disqualifies_too(self):
        c = report.summarize(_condition(
            cinemahalal=_round(300, 200),
            rqbit=_round(310, 50, stalls=1),
            peerflix=_round(90, 800)), META)
        self.assertEqual(_best(c, "readers4.firstByteP95Ms")["bestPeer"], "peerflix")

    def test_failed_readers_do_not_change_the_other_figures(self):
        c = report.summarize(_condition(
            cinemahalal=_round(300, 200),
            rqbit=_round(310, 50, errors=58, stalls=64),
            peerflix=_round(90, 800)), META)
        self.assertEqual(_best(c, "seqMBps")["bestPeer"], "rqbit")

    def test_no_peer_that_served_its_readers_leaves_no_best(self):
        c = report.summarize(_condition(
            cinemahalal=_round(300, 200),
            rqbit=_round(310, 50, errors=3)), META)
        readers = _best(c, "readers1.firstByteP95Ms")
        self.assertIsNone(readers["bestPeer"])
        self.assertIsNone(readers["ratio"])


class ReaderTargets(unittest.TestCase):
    def _reader_targets(self, c):
        return [t for t in c["targets"] if "readers on" in t["target"]]

    def test_a_run_with_the_targets_readers_is_judged(self):
        c = report.summarize(_condition(cinemahalal=_round(300, 200)), META, readers=64)
        self.assertEqual([t["holds"] for t in self._reader_targets(c)], [True, True])

    def test_a_run_with_fewer_readers_does_not_judge_the_64_reader_target(self):
        c = report.summarize(_condition(cinemahalal=_round(300, 200)), META, readers=8)
        targets = self._reader_targets(c)
        self.assertEqual([t["holds"] for t in targets], [None, None])
        self.assertTrue(all(t["target"].startswith("64 readers") for t in targets))
        self.assertEqual(_best(c, "readers1.firstByteP95Ms")["label"],
                         "8 readers, 1 stream: p95 1st byte ms")


class DownloadAlone(unittest.TestCase):
    def _run(self):
        ours = [dict(_round(300, 200), downloadMBps=v, downloadCpuSPerGiB=c,
                     readerCpuSPerGiB=0.4) for v, c in ((650, 1.6), (550, 1.8), (600, 1.7))]
        c = _condition(rqbit=_round(310, 50), peerflix=_round(90, 800))
        c["systems"]["cinemahalal"] = {"rounds": ours}
        return report.summarize(c, META)

    def test_its_median_is_compared_with_the_plain_download(self):
        s = self._run()["systems"]["cinemahalal"]["summary"]
        self.assertEqual(s["downloadMBps"], 600)
        self.assertEqual(s["downloadVsCeiling"], 600 / 500)
        self.assertEqual(s["downloadCpuSPerGiB"], 1.7)
        self.assertEqual(s["readerCpuSPerGiB"], 0.4)

    def test_the_table_shows_it_and_a_dash_where_it_was_not_measured(self):
        c = self._run()
        result = {"meta": {"readers": 64}, "conditions": [c],
                  "systems": {k: {"label": k} for k in META}}
        rows = {line.split()[1]: line for line in report.table(result).splitlines()
                if line.startswith("unshaped ")}
        self.assertIn("600.0 (1.20)", rows["cinemahalal"])
        self.assertNotIn("(1.20)", rows["rqbit"])
        self.assertIsNone(c["systems"]["rqbit"]["summary"]["downloadMBps"])


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
