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


def _readme_commands() -> list[list[str]]:
    # every "nautilus-ext <words>" the README shows (code blocks and inline), as command paths
    text = README.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"nautilus-ext((?: +[a-z][a-z0-9-]*)+)", text):
        words = match.group(1).split()
        found.append(words)
    return found


def _resolve(words: list[str]) -> list[str]:
    # the longest prefix of ``words`` that names a (sub)command; the first word must be one
    import typer.main

    from nautilus_ext.cli import app

    command: object = typer.main.get_command(app)
    path: list[str] = []
    for word in words:
        subcommands = getattr(command, "commands", None)  # a group (typer vendors its own click)
        if subcommands is None or word not in subcommands:
            break
        path.append(word)
        command = subcommands[word]
    assert path, f"the README shows `nautilus-ext {' '.join(words)}`, which is not a command"
    if getattr(command, "commands", None) is not None and len(words) > len(path):
        # a word after a group that is not one of its subcommands: a documented command is missing
        raise AssertionError(f"`nautilus-ext {' '.join(words)}`: {words[len(path)]!r} is not a subcommand")
    return path


def test_every_readme_command_exists_and_has_help() -> None:
    from typer.testing import CliRunner

    from nautilus_ext.cli import app

    paths = sorted({tuple(_resolve(words)) for words in _readme_commands()})
    assert ("confirm-limits",) in paths
    assert ("reset-risk-baselines",) in paths
    assert ("release",) in paths
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output, path
