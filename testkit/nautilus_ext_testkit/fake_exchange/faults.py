"""Fault injection and latency settings for the fake exchange (mutable at run time by tests)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field


@dataclass
class FaultPlan:
    """
    What the fake exchange should do wrong, and how slowly.

    Counters (``*_next``) are consumed one per matching request, so a test can say "the
    next order is rejected" and then observe recovery. Change fields only through
    :meth:`FakeExchange.call` (or before starting) so the server loop sees consistent values.

    Parameters
    ----------
    rest_latency_ms : float, default 0
        Delay added before every REST response.
    ws_latency_ms : float, default 0
        Delay added before every public WebSocket push.
    fill_delay_ms : float, default 0
        Delay added before every private WebSocket push (order updates, fills, positions).
    duplicate_fills : bool, default False
        Push every private fill message twice.
    clock_skew_ms : int, default 0
        Offset of the exchange clock from the host clock (signatures checked against it).
    reject_next_orders : int, default 0
        Reject this many upcoming order-entry requests with the venue's generic reject.
    http_429_next : int, default 0
        Answer this many upcoming REST requests matching ``fault_path_prefix`` with HTTP 429.
    rest_timeout_next : int, default 0
        Process this many upcoming REST requests matching ``fault_path_prefix`` but hold the
        response for ``timeout_stall_secs`` (the client times out not knowing the outcome).
    timeout_stall_secs : float, default 5.0
        How long a stalled request waits before answering.
    fault_path_prefix : str, default ""
        Only requests whose path starts with this prefix consume the 429/timeout counters.
    fault_method : str, default ""
        With a method (``"POST"``), only requests of that method consume them (an order entry,
        not a query of the same path).
    refuse_websockets : bool, default False
        Answer WebSocket upgrade requests with HTTP 503 (a venue whose streams are down).
    drop_private_fills : int, default 0
        Silently drop this many upcoming private fill pushes (the REST history still has them).
    withhold_fills_next : int, default 0
        Lose this many upcoming user fills entirely: neither pushed nor listed by the REST
        execution history, while order updates and positions still include them (a fill the
        venue executed but whose report never reaches the client: a sequence gap).
    silence_market_data : bool, default False
        The venue's market data stops: public WebSocket pushes are dropped (connections stay
        open) and Bybit's REST market-data endpoints (order book, tickers, recent trades)
        answer HTTP 503.
    position_lag_ms : float, default 0
        The REST position list answers with each position as it was this long ago (a venue
        whose position pipeline lags its fills).
    """

    rest_latency_ms: float = 0.0
    ws_latency_ms: float = 0.0
    fill_delay_ms: float = 0.0
    duplicate_fills: bool = False
    clock_skew_ms: int = 0
    reject_next_orders: int = 0
    http_429_next: int = 0
    rest_timeout_next: int = 0
    timeout_stall_secs: float = 5.0
    fault_path_prefix: str = ""
    fault_method: str = ""
    drop_private_fills: int = 0
    refuse_websockets: bool = False
    withhold_fills_next: int = 0
    silence_market_data: bool = False
    position_lag_ms: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)

    def take(self, name: str) -> bool:
        """Consume one unit of the counter ``name`` if positive; return whether one was taken."""
        value = getattr(self, name)
        if value > 0:
            setattr(self, name, value - 1)
            self.counters[name] = self.counters.get(name, 0) + 1
            return True
        return False
