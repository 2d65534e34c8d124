"""Runs the runner's Python unittest suite (runner/tests) and writes one JSON line
per test to RECORDS, so that runner.test.ts can report each Python test as a
node test of its own.

    python3 test/runner/unittest_records.py RECORDS [START_DIR TOP_LEVEL_DIR]

START_DIR and TOP_LEVEL_DIR default to runner/tests and runner (as in
`python3 -m unittest discover -s runner/tests -t runner`).

A record is {"id", "outcome": "pass" | "fail" | "error" | "skip", "reason",
"details"}: `reason` is the skip reason, `details` the traceback(s). Subtests
count towards their test. Errors outside a test (a module that fails to import,
a failing setUpClass) come as records of their own, so they cannot vanish. The
usual unittest summary goes to stderr; the exit code is unittest's."""

from __future__ import annotations

import functools
import json
import os
import sys
import unittest
from typing import Any, Dict, Optional, TextIO

RUNNER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "runner")
SEVERITY = {"pass": 0, "skip": 1, "fail": 2, "error": 3}


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, records: TextIO, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = records
        self.current: Optional[Dict[str, Any]] = None

    # --- one record per test, opened by startTest and written by stopTest

    def startTest(self, test):
        super().startTest(test)
        self.current = {"id": test.id(), "outcome": "pass", "reason": None, "details": None}

    def stopTest(self, test):
        super().stopTest(test)
        if self.current is not None:
            self._write(self.current)
        self.current = None

    def _note(self, test, outcome: str, details: Optional[str] = None, reason: Optional[str] = None):
        record = self.current
        if record is None or test.id() != record["id"] and not isinstance(test, unittest.case._SubTest):
            # outside any test: setUpClass/setUpModule failures and skips
            self._write({"id": test.id(), "outcome": outcome, "reason": reason, "details": details})
            return
        if SEVERITY[outcome] > SEVERITY[record["outcome"]]:
            record["outcome"] = outcome
        if reason is not None:
            record["reason"] = reason
        if details is not None:
            label = f"{test.id()}:\n" if test.id() != record["id"] else ""
            record["details"] = "\n".join(filter(None, [record["details"], label + details]))

    def _write(self, record: Dict[str, Any]) -> None:
        self.records.write(json.dumps(record) + "\n")
        self.records.flush()

    # --- outcomes

    def addError(self, test, err):
        super().addError(test, err)
        self._note(test, "error", self._exc_info_to_string(err, test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._note(test, "fail", self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._note(subtest, "fail" if failed else "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if isinstance(test, unittest.case._SubTest):
            self._note(test, "pass", reason=f"{test.id()} skipped: {reason}")  # the test itself still ran
        else:
            self._note(test, "skip", reason=reason)

    # addExpectedFailure is left alone: an expected failure stays a pass, as unittest counts it

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._note(test, "fail", "unexpected success: the test is marked expectedFailure but passed")


def main(argv) -> int:
    if len(argv) not in (2, 4):
        print(__doc__, file=sys.stderr)
        return 2
    start, top = (argv[2], argv[3]) if len(argv) == 4 else (os.path.join(RUNNER_DIR, "tests"), RUNNER_DIR)
    suite = unittest.defaultTestLoader.discover(start, top_level_dir=top)
    with open(argv[1], "w") as records:
        runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=1,
                                         resultclass=functools.partial(RecordingResult, records=records))
        result = runner.run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
