"""Kelly value betting: the stake maths, implied probabilities and the signal sources."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.strategies.kelly_betting import KellyValueBettingConfig
from nautilus_ext.strategies.kelly_betting import KellyValueBettingStrategy
from nautilus_ext.strategies.kelly_betting import SignalQuery
from nautilus_ext.strategies.kelly_betting import back_kelly
from nautilus_ext.strategies.kelly_betting import implied_probabilities
from nautilus_ext.strategies.kelly_betting import lay_kelly
from nautilus_ext.strategies.kelly_betting import load_callable
from nautilus_ext.strategies.kelly_betting import read_signal_file
from nautilus_ext.strategies.kelly_betting import seeded_toy_model


def test_back_kelly_by_hand() -> None:
    # p = 0.5 at odds 2.5: (0.5 x 2.5 - 1) / 1.5 = 1/6 of the bankroll
    assert back_kelly(Decimal("0.5"), Decimal("2.5")) == Decimal("0.25") / Decimal("1.5")
    assert back_kelly(Decimal("0.3"), Decimal(3)) == 0  # no edge: nothing


def test_lay_kelly_by_hand() -> None:
    # p = 0.2 at lay odds 4: liability fraction 1 - 0.8 = 0.2
    assert lay_kelly(Decimal("0.2"), Decimal(4)) == Decimal("0.2")
    assert lay_kelly(Decimal("0.3"), Decimal(4)) == 0


def test_implied_probabilities_remove_the_overround() -> None:
    implied = implied_probabilities({1: Decimal(2), 2: Decimal("1.8")})  # 0.5 + 0.5556 = 1.0556
    assert sum(implied.values()) == pytest.approx(Decimal(1))
    assert implied[1] == Decimal("0.5") / (Decimal("0.5") + 1 / Decimal("1.8"))


def test_signal_file(tmp_path: Path) -> None:
    good = tmp_path / "model.csv"
    good.write_text("market_id,selection,probability\n1.5,home,0.55\n1.5,AWAY,0.45\n", encoding="utf-8")
    assert read_signal_file(good) == {("1.5", "HOME"): Decimal("0.55"), ("1.5", "AWAY"): Decimal("0.45")}
    bad = tmp_path / "bad.csv"
    bad.write_text("market_id,selection,probability\n1.5,HOME,1.5\n", encoding="utf-8")
    with pytest.raises(InvalidConfig, match=r"line 2: probability 1.5"):
        read_signal_file(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("market_id,probability\n", encoding="utf-8")
    with pytest.raises(InvalidConfig, match="missing column"):
        read_signal_file(missing)


def test_toy_model_is_seeded_and_bounded() -> None:
    q = SignalQuery("1.5", 7, "HOME", "Arsenal", 0, Decimal("0.5"))
    assert seeded_toy_model(q) == seeded_toy_model(q)
    assert seeded_toy_model(q, seed=1) != seeded_toy_model(q, seed=2)
    assert Decimal("0.425") <= seeded_toy_model(q) <= Decimal("0.575")
    assert load_callable("nautilus_ext.strategies.kelly_betting:toy_model")(q) == seeded_toy_model(q)
    with pytest.raises(InvalidConfig, match="cannot be imported"):
        load_callable("nautilus_ext.nowhere:model")


def test_config_needs_exactly_one_signal_source() -> None:
    with pytest.raises(InvalidConfig, match="exactly one"):
        KellyValueBettingStrategy(KellyValueBettingConfig())
    with pytest.raises(InvalidConfig, match="kelly_fraction"):
        KellyValueBettingStrategy(
            KellyValueBettingConfig(
                signal_callable="nautilus_ext.strategies.kelly_betting:toy_model", kelly_fraction="2"
            )
        )
