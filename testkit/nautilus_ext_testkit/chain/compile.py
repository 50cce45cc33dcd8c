"""
Compile the Vyper stand-in contracts, caching ABI and bytecode on disk.

The cache key is the source hash plus the compiler version, so a changed contract or compiler
recompiles and an unchanged one loads in milliseconds (tests compile once per session).
"""

from __future__ import annotations

import decimal
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

CONTRACTS_DIR: Final[Path] = Path(__file__).resolve().parent / "contracts"


@dataclass(frozen=True, slots=True)
class CompiledContract:
    """
    ABI and creation bytecode of one contract.

    Parameters
    ----------
    name : str
        Contract file stem.
    abi : list[dict[str, Any]]
        Contract ABI.
    bytecode : str
        Creation bytecode, ``0x``-prefixed hex.
    """

    name: str
    abi: list[dict[str, Any]]
    bytecode: str


def vyper_module() -> Any:
    """
    Import ``vyper`` without letting it change this thread's decimal context.

    Importing vyper replaces the thread's decimal context with its own (78 digits, and any later
    change of precision raises): every Decimal computed afterwards in the process -- strategy
    decisions, audit records, expected values in tests -- would silently carry 78 digits.
    """
    saved = decimal.getcontext()
    import vyper

    decimal.setcontext(saved)
    return vyper


def compile_vyper(source: str) -> dict[str, Any]:
    """Compile Vyper ``source`` to its ABI and bytecode under vyper's own 78-digit context."""
    vyper = vyper_module()
    with decimal.localcontext() as ctx:
        ctx.prec = 78
        output: dict[str, Any] = vyper.compile_code(source, output_formats=["abi", "bytecode"])
    return output


def compile_contracts(cache_dir: Path) -> dict[str, CompiledContract]:
    """
    Compile every ``contracts/*.vy`` file (or load it from ``cache_dir``).

    Parameters
    ----------
    cache_dir : Path
        Directory for cached compiler output; created when missing.

    Returns
    -------
    dict[str, CompiledContract]
        Compiled contracts by file stem.
    """
    vyper = vyper_module()
    cache_dir.mkdir(parents=True, exist_ok=True)
    compiled: dict[str, CompiledContract] = {}
    for path in sorted(CONTRACTS_DIR.glob("*.vy")):
        source = path.read_text()
        key = hashlib.sha256(f"{vyper.__version__}\n{source}".encode()).hexdigest()[:24]
        cached = cache_dir / f"{path.stem}-{key}.json"
        if cached.exists():
            payload = json.loads(cached.read_text())
        else:
            output = compile_vyper(source)
            payload = {"abi": output["abi"], "bytecode": output["bytecode"]}
            tmp = cached.with_suffix(".tmp")
            tmp.write_text(json.dumps(payload))
            tmp.replace(cached)
        compiled[path.stem] = CompiledContract(
            name=path.stem, abi=payload["abi"], bytecode=payload["bytecode"]
        )
    return compiled


__all__ = ["CONTRACTS_DIR", "CompiledContract", "compile_contracts"]
