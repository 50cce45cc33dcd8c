"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from nautilus_ext.orders import Order

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_core_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks, "the README must show a runnable example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # our own README
    order = namespace["order"]
    assert isinstance(order, Order)
    assert str(order.amount) == "0.1000000000000000055511151231257827"
