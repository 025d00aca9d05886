"""History: one record per epoch (cost, metrics, learning rate, time), JSON round-trip."""

from __future__ import annotations

import json
import math
from pathlib import Path


class History:
    """Per-epoch records returned by ``fit``.

    Each record is a dict such as ``{"epoch": 3, "cost": 0.12, "accuracy": 0.97,
    "dev_cost": 0.15, "dev_accuracy": 0.96, "lr": 0.001, "time": 1.4, "samples_per_s": 900}``.
    ``history["dev_cost"]`` gives that column as a list (None where an epoch lacks it).
    """

    def __init__(self, records=None):
        self.records: list[dict] = [dict(r) for r in (records or [])]

    def append(self, record: dict) -> None:
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: str) -> list:
        if not any(key in r for r in self.records):
            raise KeyError(f"history has no column {key!r}; columns: {', '.join(self.keys())}")
        return [r.get(key) for r in self.records]

    def __contains__(self, key: str) -> bool:
        return any(key in r for r in self.records)

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.records:
            seen.update(dict.fromkeys(r))
        return list(seen)

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}

    def to_dict(self) -> dict:
        return {"records": [{k: _json_number(v) for k, v in r.items()} for r in self.records]}

    @classmethod
    def from_dict(cls, data: dict | None) -> "History":
        return cls((data or {}).get("records", []))

    def save_json(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load_json(cls, path) -> "History":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, columns={self.keys()})"


def _json_number(value):
    """NaN/Inf become strings so the JSON stays standard ("nan", "inf")."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
