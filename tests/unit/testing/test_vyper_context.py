"""Importing vyper (the chain kit's Vyper stand-ins) must not change the process's decimal context."""

from __future__ import annotations

import decimal
import subprocess
import sys


def test_compiling_vyper_leaves_the_decimal_context_alone() -> None:
    # a fresh interpreter: vyper replaces the thread's context when it is first imported
    script = (
        "import decimal\n"
        "from nautilus_ext_testkit.chain.compile import compile_vyper\n"
        "out = compile_vyper('@external\\ndef f() -> uint256:\\n    return 1\\n')\n"
        "assert out['bytecode'].startswith('0x')\n"
        "ctx = decimal.getcontext()\n"
        "print(ctx.prec, type(ctx).__name__)\n"
        "ctx.prec = 30\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["28", "Context"]
    assert decimal.getcontext().prec == 28
