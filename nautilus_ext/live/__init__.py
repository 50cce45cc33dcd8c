"""TradingNode assembly for LIVE and DRY_RUN modes from validated YAML (``configs/live/``)."""

from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.config import load_live_config

__all__ = ["LiveNodeConfig", "load_live_config"]
