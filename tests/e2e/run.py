#!/usr/bin/env python3
"""Runs the end-to-end tests (tests/e2e/test_*.py) and prints one TAP-style
line per test, then `e2e: N passed, N failed, N skipped`.

usage: run.py [-k PATTERN]... [MODULE...]
Exit status: 0 if nothing failed, 1 otherwise. USM_BUILD_DIR names the
build directory (default: build-test at the repository root)."""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0
        self.passed = 0
        self.started = 0.0

    def startTest(self, test):
        super().startTest(test)
        self.started = time.monotonic()

    def _line(self, status, test, extra=""):
        self.n += 1
        secs = time.monotonic() - self.started
        print("%s %d - %s (%.1fs)%s" % (status, self.n, test.id(), secs, extra), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line("ok", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line("not ok", test)
        print("# " + self._exc_info_to_string(err, test).replace("\n", "\n# "), flush=True)

    def addError(self, test, err):
        super().addError(test, err)
        self._line("not ok", test)
        print("# " + self._exc_info_to_string(err, test).replace("\n", "\n# "), flush=True)

    def addExpectedFailure(self, test, err):
        # A known bug, written down as the test that will pass once fixed.
        super().addExpectedFailure(test, err)
        self.passed += 1
        self._line("ok", test, " # TODO known bug")

    def addUnexpectedSuccess(self, test):
        # Fixed: the expectedFailure mark must go, or a regression would
        # pass unseen.
        super().addUnexpectedSuccess(test)
        self._line("not ok", test, " # fixed: remove @unittest.expectedFailure")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line("ok", test, " # SKIP " + reason)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[], help="only tests matching")
    ap.add_argument("modules", nargs="*")
    args = ap.parse_args()
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ["*%s*" % k for k in args.k]
    if args.modules:
        suite = unittest.TestSuite(loader.loadTestsFromName(m) for m in args.modules)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = TapResult()
    suite.run(result)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print("e2e: %d passed, %d failed, %d skipped" % (result.passed, failed, len(result.skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
