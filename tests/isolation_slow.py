"""A module that is slow to import, as the service's own modules are on a loaded machine: the
isolation tests preload it in a worker. When loaded it leaves ``loaded-<pid>`` in the worker's
working folder, so a test can tell whether a worker was handed out before it had finished."""

from __future__ import annotations

import os
import time
from pathlib import Path

time.sleep(0.6)
Path(f"loaded-{os.getpid()}").write_text("loaded")
