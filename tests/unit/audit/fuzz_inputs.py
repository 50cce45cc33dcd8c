"""
Hostile audit logs for the reader fuzzer: arbitrary bytes, mutated valid segments, re-hashed
records with hostile content and badly named folders.

One generator, :func:`hostile_log`, driven by a :class:`random.Random`, feeds both the bounded
hypothesis test (``test_reader_fuzz.py``, through ``st.randoms()``) and the measurement run
(``python tests/unit/audit/fuzz_inputs.py N`` from the repository root), which counts the
inputs that made a reader raise anything but the project's typed errors.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.audit.canonical import GENESIS_HASH
from nautilus_ext.audit.records import encode_record
from nautilus_ext.audit.records import iter_records
from nautilus_ext.audit.records import verify_log
from nautilus_ext.audit.reports import load_events
from nautilus_ext.errors import NautilusExtError

DAY0_NS: Final = 1_704_153_600 * 1_000_000_000  # 2024-01-02T00:00:00Z
DAY_DIR: Final = "date=2024-01-02"

HOSTILE_VALUES: Final[list[Any]] = [
    None,
    True,
    False,
    -1,
    0,
    2**63,
    2**64 + 1,
    10**30,
    -(10**30),
    1.5,
    "",
    "x" * 300,
    "\udcff",
    [],
    {},
    [[[[]]]],
    {"a": {"b": {}}},
    "NaN",
    "1e999",
    58_904 * 365 * 86_400 * 10**9,
    DAY0_NS * 1000,
]
"""Values substituted for fields of otherwise valid events."""

HOSTILE_TEXT: Final[list[bytes]] = [
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b"9" * 5000,
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999999",
    b'"\\ud800"',
    b"\xff\xfe\xfa",
    b"\x00",
    b"{}",
    b"[]",
    b"null",
]
"""Raw lines and fragments that stress a JSON decoder."""

HOSTILE_FOLDERS: Final[list[str]] = [
    "date=2024-13-45",
    "date=0000-00-00",
    "date=9999-99-99",
    "date=2024-02-30",
]
"""Folder names that match the layout's pattern but are not dates."""


def _event(index: int) -> dict[str, Any]:
    ts = DAY0_NS + index * 1_000_000
    return {
        "config_hash": "cd" * 32,
        "event_type": "FILL",
        "fee_currency": None,
        "fees": "0.5",
        "id": f"F-{index}",
        "intent_id": "I-1",
        "mode": "LIVE",
        "order_id": "O-1",
        "price": "42000",
        "qty": "1.5",
        "schema_version": 1,
        "seq": None,
        "side": "BUY",
        "strategy_id": "S-1",
        "ts_event": ts,
        "ts_wall": ts + 7,
        "venue": "BINANCE",
        "version_hash": "ab" * 32,
        "asset": "BTC-USDT",
    }


def _chain(events: list[dict[str, Any]], first_seq: int = 0) -> list[bytes]:
    lines, prev = [], GENESIS_HASH
    for offset, event in enumerate(events):
        line, prev = encode_record(first_seq + offset, prev, event)
        lines.append(line)
    return lines


def valid_lines(count: int) -> list[bytes]:
    """Return ``count`` valid, chained record lines (fills of 2024-01-02)."""
    return _chain([_event(i) for i in range(count)])


def _rehashed_hostile(rng: random.Random) -> list[bytes]:
    # Records whose hashes and links are right but whose content is hostile: they get past the
    # hash check and reach the date and schema checks.
    events = [_event(i) for i in range(rng.randint(1, 6))]
    for _ in range(rng.randint(1, 3)):
        event = rng.choice(events)
        key = rng.choice([*sorted(event), "extra"])
        value = rng.choice(HOSTILE_VALUES)
        if isinstance(value, float):
            continue  # encode_record refuses floats; raw float text is covered by mutations
        try:
            event[key] = value
            json.dumps(event).encode("ascii")
        except (UnicodeEncodeError, ValueError):
            event[key] = "x"
    try:
        return _chain(events)
    except (TypeError, ValueError):
        return valid_lines(2)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        position = rng.randrange(len(buf) + 1)
        if choice == 0 and buf:
            buf[min(position, len(buf) - 1)] = rng.randrange(256)
        elif choice == 1:
            buf[position:position] = rng.randbytes(rng.randint(1, 16))
        elif choice == 2:
            del buf[position : position + rng.randint(1, 64)]
        elif choice == 3:
            buf[position:position] = rng.choice(HOSTILE_TEXT)
        elif choice == 4:
            lines = bytes(buf).split(b"\n")
            rng.shuffle(lines)
            buf = bytearray(b"\n".join(lines))
        elif choice == 5:
            # Swap a JSON number or string for a hostile fragment.
            text = bytes(buf)
            anchor = text.find(b":", position)
            if anchor >= 0:
                end = anchor + 1
                while end < len(text) and text[end : end + 1] not in (b",", b"}"):
                    end += 1
                buf = bytearray(text[: anchor + 1] + rng.choice(HOSTILE_TEXT) + text[end:])
        else:
            del buf[position:]
    return bytes(buf)


def hostile_log(rng: random.Random) -> dict[str, bytes]:
    """
    Return a hostile log as ``{path under the root: content}``.

    Parameters
    ----------
    rng : random.Random
        The source of every choice (hypothesis passes a shrinkable one).
    """
    kind = rng.randrange(5)
    folder = DAY_DIR
    if kind == 0:
        content = rng.randbytes(rng.randint(0, 400))
    elif kind == 1:
        content = _mutate(b"".join(valid_lines(rng.randint(1, 6))), rng)
    elif kind == 2:
        content = b"".join(_rehashed_hostile(rng))
    elif kind == 3:
        content = rng.choice(HOSTILE_TEXT) + b"\n"
    else:
        folder = rng.choice(HOSTILE_FOLDERS)
        content = b"".join(valid_lines(2))
    files = {f"audit/{folder}/{0:020d}.jsonl": content}
    if rng.random() < 0.2:
        # A second segment continuing the chain, so multi-segment paths are reached.
        files[f"audit/{DAY_DIR}/{99:020d}.jsonl"] = _mutate(b"".join(valid_lines(2)), rng)
    return files


def write_log(root: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` under ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


READERS: Final[dict[str, Callable[[str], object]]] = {
    "verify_log": verify_log,
    "iter_records": lambda root: list(iter_records(root)),
    "load_events": load_events,
}
"""The readers and verifiers under test, by name."""


def untyped_failures(root: str) -> list[tuple[str, BaseException]]:
    """Run every reader on ``root``; return the (reader, exception) pairs that were not typed."""
    failures = []
    for name, reader in READERS.items():
        try:
            reader(root)
        except NautilusExtError:
            pass
        except Exception as e:  # counting exactly these is the point
            failures.append((name, e))
    return failures


def measure(count: int, seed: int = 0) -> tuple[int, Counter[str]]:
    """Run ``count`` inputs; return how many gave an untyped exception, and which kinds."""
    bad = 0
    kinds: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(count):
            root = Path(tmp) / str(index)
            write_log(root, hostile_log(random.Random(seed * 1_000_003 + index)))
            failures = untyped_failures(str(root))
            if failures:
                bad += 1
                for name, e in failures:
                    frame = traceback.extract_tb(e.__traceback__)[-1]
                    kinds[f"{name}: {type(e).__name__} at {Path(frame.filename).name}:{frame.lineno}"] += 1
    return bad, kinds


if __name__ == "__main__":
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    failing, by_kind = measure(total)
    print(f"{failing} of {total} inputs gave a non-typed exception")
    for description, n in by_kind.most_common():
        print(f"  {n:5d}  {description}")
