"""The operations network file (``KIT_NETWORK_FILE``): warehouses, lanes and default policy, schema-checked on load."""
from __future__ import annotations

import json
import threading
from pathlib import Path

from .. import contracts
from ..errors import Unavailable
from .model import id_key

SCHEMA = "allocation-network"
EXAMPLE_FILE = Path(__file__).resolve().parent / "network.example.json"

_cache: dict = {}
_lock = threading.Lock()


class NetworkFileError(Unavailable):
    """The configured network file is missing or invalid: a server configuration problem, not the caller's."""

    code = "network_file_invalid"


def problems(network: dict) -> list[dict]:
    """Schema problems, then what a schema cannot say: unique ids, lanes that point at a listed warehouse."""
    found = contracts.problems(SCHEMA, network)
    if found:
        return found
    seen, seen_odoo = {}, {}
    for i, w in enumerate(network["warehouses"]):
        if id_key(w["id"]) in seen:
            found.append({"path": f"warehouses/{i}/id", "message": f"duplicate warehouse id {w['id']!r}"})
        seen.setdefault(id_key(w["id"]), i)
        if w["odoo_warehouse_id"] in seen_odoo:
            found.append({"path": f"warehouses/{i}/odoo_warehouse_id",
                          "message": f"Odoo warehouse {w['odoo_warehouse_id']} is mapped twice"})
        seen_odoo.setdefault(w["odoo_warehouse_id"], i)
    lanes = set()
    for i, lane in enumerate(network["lanes"]):
        key = id_key(lane["warehouse_id"])
        if key not in seen:
            found.append({"path": f"lanes/{i}/warehouse_id", "message": f"no warehouse {lane['warehouse_id']!r}"})
        elif key in lanes:
            found.append({"path": f"lanes/{i}/warehouse_id", "message": "a second lane for the same warehouse"})
        lanes.add(key)
    return found


def load(path: str) -> dict:
    """The parsed, checked network file; re-read when the file changes (operations edit it in place)."""
    if not path:
        raise NetworkFileError("KIT_NETWORK_FILE is not set: planning from Odoo ids needs the operations network file",
                               code="network_file_missing")
    file = Path(path)
    try:
        stamp = file.stat().st_mtime_ns
    except OSError as exc:
        raise NetworkFileError(f"network file {path} cannot be read: {exc}", code="network_file_missing") from None
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
    try:
        network = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise NetworkFileError(f"network file {path} is not JSON: {exc}") from None
    found = problems(network)
    if found:
        raise NetworkFileError(f"network file {path} breaks the {SCHEMA} contract", details=found)
    with _lock:
        _cache[path] = (stamp, network)
    return network
