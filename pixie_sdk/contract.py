"""Names fixed by the Pixie HTTP contract: routes, headers, environment variables, limits.

Every package takes these from here, so nobody types a route or a header by hand.
"""

from __future__ import annotations

__all__ = [
    "ARTEFACTS_DIR_HEADER",
    "ENV_ARTEFACTS_ROOT",
    "ENV_DEV",
    "ENV_PARENT_PID",
    "ENV_TOOL_ID",
    "FLAT_RESERVED_KEYS",
    "LOOPBACK_HOST",
    "MANIFEST_FILENAME",
    "PIXIE_META_KEY",
    "ROUTE_CANCEL",
    "ROUTE_HEALTHZ",
    "ROUTE_RUN",
    "ROUTE_SCHEMA",
    "ROUTE_STREAM",
    "RUN_ID_HEADER",
    "SCHEMA_VERSION",
]

#: Version of the contract this kit implements (tool.json's ``schema_version`` default).
SCHEMA_VERSION = "1.0"
MANIFEST_FILENAME = "tool.json"

ROUTE_HEALTHZ = "/healthz"
ROUTE_SCHEMA = "/schema"
ROUTE_RUN = "/run"
ROUTE_STREAM = "/stream"
ROUTE_CANCEL = "/cancel"

RUN_ID_HEADER = "X-Pixie-Run-Id"
ARTEFACTS_DIR_HEADER = "X-Pixie-Artefacts-Dir"
#: The key of the host's metadata object in the run body.
PIXIE_META_KEY = "_pixie"
#: Keys of the run body that a flat copy of an input never overwrites.
FLAT_RESERVED_KEYS = frozenset({"run_id", "inputs", PIXIE_META_KEY})

#: Tools bind here and nowhere else.
LOOPBACK_HOST = "127.0.0.1"

ENV_TOOL_ID = "PIXIE_TOOL_ID"
ENV_ARTEFACTS_ROOT = "PIXIE_ARTEFACTS_ROOT"
#: Set by the host to its own pid, so a tool notices when the host is gone.
ENV_PARENT_PID = "PIXIE_PARENT_PID"
#: ``1`` turns on development mode: handler crashes carry their traceback in the 500 reply.
ENV_DEV = "PIXIE_DEV"
