"""The installed Qt binding keeps Python's reference counts right (PySide6 6.12.0 on Python 3.11 did not)."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
before = sys.getrefcount(None)
for _ in range(50_000):
    label.setText("x")
print(before - sys.getrefcount(None))
"""


def test_void_qt_calls_do_not_leak_references_to_none() -> None:
    # GIVEN a fresh interpreter (a crash must not take the test session down)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # WHEN a method returning nothing is called 50 000 times
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    # THEN the interpreter survived and None lost no reference
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "0"
