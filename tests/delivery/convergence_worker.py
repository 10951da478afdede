"""``scimbridge worker`` under a name the convergence test gives it, so that the test can
tell this worker's claims from the other's and SIGKILL it while it holds a batch.

Run as ``python convergence_worker.py CONFIG NAME``. The worker's batch tokens, which
``outbox.claimed_by`` holds while a batch is in flight, are ``NAME/<n>``. Otherwise it is
the worker of ``scimbridge worker``: logging as configured, SIGTERM stops it.
"""

from __future__ import annotations

import signal
import sys
import threading

from scimbridge.app import Bridge
from scimbridge.cli import log_as_configured
from scimbridge.config import load_config
from scimbridge.delivery.worker import Worker


def main() -> None:
    config_path, name = sys.argv[1:3]
    config = load_config(config_path)
    log_as_configured(config)
    bridge = Bridge(config)
    worker = Worker(config, bridge.database, bridge.mappings)
    worker.name = name
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.run(stop, poll_seconds=0.05)


if __name__ == "__main__":
    main()
