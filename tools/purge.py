"""``make purge``: delete conversations untouched for longer than ``BEACON_RETENTION_DAYS`` (default 30).

Uses the same tracker-store settings as the bot (endpoints.yml with the environment's values).
"""

from __future__ import annotations

import sys

from tools.stack import DEFAULTS, ROOT


def main() -> int:
    import os

    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import read_endpoint_config

    from channels.retention import purge_sql_store, retention_seconds

    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, domain=Domain.load(str(ROOT / "domain.yml")))
    if not isinstance(store, SQLTrackerStore):
        print(f"purge: {type(store).__name__} expires conversations by itself; nothing to do")
        return 0
    removed = purge_sql_store(store)
    print(f"purge: removed {removed} events of conversations untouched for {retention_seconds() / 86400:g} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
