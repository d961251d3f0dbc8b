#!/usr/bin/env python3
"""Prints the tests a Swift Testing log shows as started but never finished (what a hung run was waiting for).

Usage: unfinished-tests.py LOG. Test names repeat across suites, so starts and ends are counted per name."""
import re
import sys
from collections import Counter

started, finished = Counter(), Counter()
with open(sys.argv[1], errors="replace") as log:
    for line in log:
        # Test cases of parameterized tests, and the run itself (a test function's name ends in its parentheses).
        if line.startswith(("◇ Test case ", "◇ Test run started.")):
            continue
        if m := re.match(r"◇ Test (.+) started\.$", line.rstrip("\n")):
            started[m.group(1)] += 1
        elif m := re.match(r"[✔✘] Test (.+?) (?:with \d+ test cases? )?(?:passed|failed)", line):
            finished[m.group(1)] += 1
for name, count in sorted((started - finished).items()):
    print(f"  {name}" + (f" (×{count})" if count > 1 else ""))
