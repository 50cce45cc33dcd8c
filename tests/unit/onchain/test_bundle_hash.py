"""The bundle content hash: every call and amount is covered, nothing else moves it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import BundleKind
from nautilus_ext.onchain.bundles import BundleStep
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.bundles import TargetRange
from nautilus_ext.onchain.gated import bundle_hash
from nautilus_ext.onchain.spells import aave_borrow
from nautilus_ext.onchain.spells import aave_deposit

TOKEN = "0x" + "11" * 20
OTHER = "0x" + "22" * 20


def _bundle(borrow: int = 5, token: str = TOKEN) -> AtomicBundle:
    return AtomicBundle(
        kind=BundleKind.ORDER_GROUP,
        steps=(
            BundleStep(StepKind.SUPPLY, "WETH", 10, aave_deposit("AAVE-V3-A", TOKEN, 10), "AAVE_V3"),
            BundleStep(StepKind.BORROW, "WETH", borrow, aave_borrow("AAVE-V3-A", token, borrow), "AAVE_V3"),
        ),
    )


def test_same_calls_same_hash_and_any_change_moves_it() -> None:
    base = bundle_hash(_bundle())
    assert base == bundle_hash(_bundle())
    assert len(base) == 64
    changed = {
        bundle_hash(_bundle(borrow=6)),  # an amount
        bundle_hash(_bundle(token=OTHER)),  # calldata only (same step amounts)
        bundle_hash(replace(_bundle(), kind=BundleKind.LTV_ADJUSTMENT)),
        bundle_hash(replace(_bundle(), target=TargetRange(Decimal("0.1"), Decimal("0.5"), Decimal("1.1")))),
        bundle_hash(replace(_bundle(), steps=tuple(reversed(_bundle().steps)))),  # the order
    }
    assert base not in changed
    assert len(changed) == 5
