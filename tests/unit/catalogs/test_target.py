"""Parsing catalog targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from nautilus_ext.catalogs.target import parse_target
from nautilus_ext.errors import InvalidConfig


def test_local_path_is_absolute(tmp_path: Path) -> None:
    target = parse_target(tmp_path / "cat")
    assert target.protocol == "file"
    assert target.path == (tmp_path / "cat").as_posix()
    assert not target.is_remote


def test_gcs_url() -> None:
    target = parse_target("gs://bucket/some/prefix/")
    assert target.protocol == "gcs"
    assert target.path == "bucket/some/prefix"
    assert target.join("data", "trade_tick") == "bucket/some/prefix/data/trade_tick"


@pytest.mark.parametrize("uri", ["", "gs://", "s3://bucket/x", "ftp://host/x"])
def test_bad_targets(uri: str) -> None:
    with pytest.raises(InvalidConfig):
        parse_target(uri)
