"""Every audit config class round-trips through JSON unchanged."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel

from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import BackpressurePolicy
from nautilus_ext.audit.reports import RegimeRule


@pytest.mark.parametrize(
    "config",
    [
        AuditStoreConfig(root="/tmp/a"),
        AuditStoreConfig(
            root="gs://bucket/prefix",
            storage_options={"project": "p"},
            queue_capacity=10,
            batch_max_records=3,
            commit_interval_ms=2,
            fsync=False,
            backpressure=BackpressurePolicy.BLOCK,
            block_timeout_ms=5,
            verify_on_open=True,
            upload_retries=0,
        ),
        RegimeRule(),
        RegimeRule(
            bucket_minutes=5,
            min_points=4,
            high_vol_rms_return=Decimal("0.01"),
            trend_efficiency=Decimal("0.5"),
        ),
    ],
)
def test_config_round_trips_through_json(config: BaseModel) -> None:
    assert type(config).model_validate_json(config.model_dump_json()) == config


def test_parse_accepts_yaml_like_mappings() -> None:
    config = AuditStoreConfig.parse({"root": "/tmp/a", "backpressure": "BLOCK", "queue_capacity": 5})
    assert config.backpressure is BackpressurePolicy.BLOCK
    assert config.queue_capacity == 5
