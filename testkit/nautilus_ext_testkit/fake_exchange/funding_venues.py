"""
Funding in each venue's own wire shapes: REST endpoints and settlement pushes.

Shapes follow the venues' documents and what ccxt 4.5.90's parsers read:

- **Bybit v5**: ``/v5/market/tickers`` (``fundingRate``, ``nextFundingTime``,
  ``fundingIntervalHour``, ``markPrice``, ``indexPrice``, ``openInterest``, ``turnover24h``),
  ``/v5/market/funding/history`` (newest first), ``/v5/market/open-interest``; a settlement
  pushes an ``execution`` row with ``execType: "Funding"`` (``execFee`` > 0 = paid), then
  ``position`` and ``wallet``; ``/v5/execution/list?execType=Funding`` lists those rows (other
  queries of the list keep showing trades only).
- **Binance USD-M**: ``/fapi/v1/premiumIndex``, ``/fapi/v1/fundingInfo``
  (``fundingIntervalHours``), ``/fapi/v1/fundingRate`` (oldest first), ``/fapi/v1/openInterest``,
  the signed ``/fapi/v1/income`` (``incomeType=FUNDING_FEE``); a settlement pushes
  ``ACCOUNT_UPDATE`` with reason ``m: "FUNDING_FEE"`` (``bc`` = the balance change).
- **OKX v5**: ``/public/funding-rate`` (``instId=ANY`` for all), ``/public/funding-rate-history``
  (newest first), ``/public/open-interest``; a settlement pushes ``balance_and_position`` with
  ``eventType: "funding_fee"``, then ``account`` and ``positions``, and books a ``type: 8`` bill
  (``/account/bills``, ``/account/bills-archive``; ``subType`` 173 expense, 174 income).
- **Hyperliquid**: ``metaAndAssetCtxs`` (``funding``, ``openInterest``, ``markPx``,
  ``oraclePx``, ``dayNtlVlm``), ``fundingHistory``, ``predictedFundings``, ``userFunding``; a
  settlement pushes ``userFundings`` (``usdc`` < 0 = paid).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from aiohttp import web

from nautilus_ext_testkit.fake_exchange import binance_wire
from nautilus_ext_testkit.fake_exchange.funding import FundingSettlement
from nautilus_ext_testkit.fake_exchange.okx_wire import dec_str
from nautilus_ext_testkit.fake_exchange.okx_wire import ms_str

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.binance import BinanceProtocol
    from nautilus_ext_testkit.fake_exchange.bybit import BybitProtocol
    from nautilus_ext_testkit.fake_exchange.hyperliquid import HyperliquidProtocol
    from nautilus_ext_testkit.fake_exchange.okx import OkxProtocol


def _s(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _int(value: str | None, default: int | None = None) -> int | None:
    return default if value in (None, "") else int(str(value))


# -- Bybit v5 ---------------------------------------------------------------------------------


class BybitFunding:
    """Bybit v5 funding endpoints and pushes for one :class:`BybitProtocol`."""

    def __init__(self, protocol: BybitProtocol) -> None:
        self.p = protocol
        self.executions: list[dict[str, Any]] = []  # the account's Funding executions, oldest first
        protocol.engine.funding.listeners.append(self._on_settlement)

    def funding_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        """``/v5/execution/list?execType=Funding``: the account's funding rows, newest first."""
        start = int(params.get("startTime", 0) or 0)
        end = int(params.get("endTime", 0) or 0) or None
        symbol = params.get("symbol")
        rows = [
            r
            for r in reversed(self.executions)
            if int(r["execTime"]) >= start
            and (end is None or int(r["execTime"]) <= end)
            and symbol in (None, r["symbol"])
        ]
        limit = int(params.get("limit") or params.get("size") or 50)
        return {"category": "linear", "list": rows[:limit], "nextPageCursor": ""}

    def register(self, app: web.Application) -> None:
        """Add the funding routes."""
        app.router.add_get("/v5/market/funding/history", self.history)
        app.router.add_get("/v5/market/open-interest", self.open_interest)

    def ticker_fields(self, symbol: str) -> dict[str, Any]:
        """Return the funding, mark/index, OI and volume fields of a linear ticker."""
        f = self.p.engine.funding
        state = f.state(symbol)
        mark = f.mark(symbol)
        return {
            "markPrice": _s(mark),
            "indexPrice": _s(f.index(symbol)),
            "openInterest": _s(state.open_interest),
            "openInterestValue": _s(state.open_interest * mark),
            "turnover24h": _s(state.volume_24h),
            "fundingRate": _s(state.rate),
            "nextFundingTime": str(state.next_funding_ms),
            "fundingIntervalHour": str(state.interval_hours),
        }

    async def history(self, request: web.Request) -> web.Response:
        """GET /v5/market/funding/history (newest first, at most ``limit`` <= 200)."""
        q = request.query
        symbol = q.get("symbol", "")
        if symbol not in self.p.engine.markets:
            return self.p.error(10001, "params error: symbol invalid")
        if q.get("startTime") and not q.get("endTime"):
            # Bybit: "startTime" alone is refused; ccxt always sends both
            return self.p.error(10001, "params error: endTime is required when startTime is passed")
        limit = min(_int(q.get("limit"), 200) or 200, 200)
        points = self.p.engine.funding.history(symbol, _int(q.get("startTime")), _int(q.get("endTime")))
        rows = [
            {"symbol": symbol, "fundingRate": _s(p.rate), "fundingRateTimestamp": str(p.ts_ms)}
            for p in reversed(points)
        ][:limit]
        return self.p.ok({"category": q.get("category", "linear"), "list": rows})

    async def open_interest(self, request: web.Request) -> web.Response:
        """GET /v5/market/open-interest (the current value as the newest bucket)."""
        symbol = request.query.get("symbol", "")
        if symbol not in self.p.engine.markets:
            return self.p.error(10001, "params error: symbol invalid")
        oi = self.p.engine.funding.state(symbol).open_interest
        now = self.p.exchange.now_ms()
        return self.p.ok(
            {
                "category": request.query.get("category", "linear"),
                "symbol": symbol,
                "list": [{"openInterest": _s(oi), "timestamp": str(now - now % 300_000)}],
                "nextPageCursor": "",
            }
        )

    def _on_settlement(self, s: FundingSettlement) -> None:
        from nautilus_ext_testkit.fake_exchange.bybit import USER

        if s.account != USER:
            return
        size = abs(s.position_qty)
        row = {
            "category": "linear",
            "symbol": s.symbol,
            "execFee": _s(-s.amount),  # Bybit: positive = the account paid funding
            "execId": f"funding-{s.symbol}-{s.ts_ms}",
            "execPrice": _s(s.mark_price),
            "execQty": _s(size),
            "execType": "Funding",
            "execValue": _s(size * s.mark_price),
            "feeRate": _s(s.rate),
            "isMaker": False,
            "markPrice": _s(s.mark_price),
            "indexPrice": _s(self.p.engine.funding.index(s.symbol)),
            "leavesQty": "0",
            "orderId": "",
            "orderLinkId": "",
            "orderPrice": "0",
            "orderQty": "0",
            "orderType": "UNKNOWN",
            "stopOrderType": "UNKNOWN",
            "side": "Buy" if s.position_qty > 0 else "Sell",
            "execTime": str(s.ts_ms),
            "isLeverage": "0",
            "closedSize": "0",
            "seq": int(time.perf_counter_ns() % 10**12),
        }
        self.executions.append(row)
        self.p._private_push("execution", [row])
        self.p._private_push("wallet", [self.p.wallet_row()])


# -- Binance USD-M ----------------------------------------------------------------------------


class BinanceFunding:
    """Binance USD-M funding endpoints and pushes for one :class:`BinanceProtocol`."""

    def __init__(self, protocol: BinanceProtocol) -> None:
        self.p = protocol
        self.income: list[dict[str, Any]] = []
        protocol.engine.funding.listeners.append(self._on_settlement)

    def register(self, app: web.Application, prefix: str) -> None:
        """Add the funding routes under ``prefix`` (``/fapi``)."""
        r = app.router
        r.add_get(prefix + "/v1/fundingInfo", self.funding_info)
        r.add_get(prefix + "/v1/fundingRate", self.funding_rate_history)
        r.add_get(prefix + "/v1/openInterest", self.open_interest)
        r.add_route("GET", prefix + "/v1/income", self.p._signed(self.income_history))

    def premium_fields(self, symbol: str) -> dict[str, Any]:
        """Return the funding fields of ``premiumIndex`` and the ``markPriceUpdate`` stream."""
        f = self.p.engine.funding
        state = f.state(symbol)
        return {
            "markPrice": binance_wire.fmt(f.mark(symbol)),
            "indexPrice": binance_wire.fmt(f.index(symbol)),
            "lastFundingRate": binance_wire.fmt(state.rate),
            "nextFundingTime": state.next_funding_ms,
        }

    async def funding_info(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/fundingInfo (every listed perpetual with its interval)."""
        return web.json_response(
            [
                {
                    "symbol": symbol,
                    "adjustedFundingRateCap": "0.02000000",
                    "adjustedFundingRateFloor": "-0.02000000",
                    "fundingIntervalHours": state.interval_hours,
                    "disclaimer": False,
                }
                for symbol, state in self.p.engine.funding.states.items()
            ]
        )

    async def funding_rate_history(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/fundingRate (oldest first, ``limit`` default 100, max 1000)."""
        q = request.query
        symbol = q.get("symbol")
        if symbol is not None and symbol not in self.p.engine.markets:
            return self.p.error(binance_wire.INVALID_SYMBOL)
        limit = min(_int(q.get("limit"), 100) or 100, 1000)
        start, end = _int(q.get("startTime")), _int(q.get("endTime"))
        rows: list[dict[str, Any]] = [
            {
                "symbol": s,
                "fundingTime": p.ts_ms,
                "fundingRate": binance_wire.fmt(p.rate),
                "markPrice": binance_wire.fmt(p.mark_price),
            }
            for s in ([symbol] if symbol else list(self.p.engine.markets))
            for p in self.p.engine.funding.history(s, start, end)
        ]
        rows.sort(key=lambda r: int(r["fundingTime"]))
        # Binance: with startTime the oldest ``limit`` rows, otherwise the newest
        return web.json_response(rows[:limit] if start is not None else rows[-limit:])

    async def open_interest(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/openInterest."""
        symbol = request.query.get("symbol", "")
        if symbol not in self.p.engine.markets:
            return self.p.error(binance_wire.INVALID_SYMBOL)
        oi = self.p.engine.funding.state(symbol).open_interest
        return web.json_response(
            {"openInterest": binance_wire.fmt(oi), "symbol": symbol, "time": self.p.exchange.now_ms()}
        )

    async def income_history(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/income (signed): the account's funding fees."""
        kind = params.get("incomeType")
        symbol = params.get("symbol")
        rows = [
            r
            for r in self.income
            if (kind is None or r["incomeType"] == kind) and (symbol is None or r["symbol"] == symbol)
        ]
        return rows

    def _on_settlement(self, s: FundingSettlement) -> None:
        if s.account != binance_wire.USER:
            return
        asset = self.p.engine.markets[s.symbol].quote
        self.income.append(
            {
                "symbol": s.symbol,
                "incomeType": "FUNDING_FEE",
                "income": binance_wire.fmt(s.amount),
                "asset": asset,
                "info": "FUNDING_FEE",
                "time": s.ts_ms,
                "tranId": 9_000_000_000 + len(self.income),
                "tradeId": "",
            }
        )
        wallet, _, _ = self.p.wallet()
        pos = self.p.engine.position(s.account, s.symbol)
        row = self.p.position_row(pos)
        self.p.streams._user_push(
            {
                "e": "ACCOUNT_UPDATE",
                "T": s.ts_ms,
                "E": self.p.exchange.now_ms(),
                "a": {
                    "m": "FUNDING_FEE",
                    "B": [
                        {
                            "a": asset,
                            "wb": binance_wire.fmt(wallet),
                            "cw": binance_wire.fmt(wallet),
                            "bc": binance_wire.fmt(s.amount),
                        }
                    ],
                    "P": [
                        {
                            "s": s.symbol,
                            "pa": row["positionAmt"],
                            "ep": row["entryPrice"],
                            "bep": row["breakEvenPrice"],
                            "cr": binance_wire.fmt(pos.realized_pnl),
                            "up": row["unRealizedProfit"],
                            "mt": "cross",
                            "iw": "0",
                            "ps": "BOTH",
                        }
                    ],
                },
            }
        )


# -- OKX v5 -----------------------------------------------------------------------------------


class OkxFunding:
    """OKX v5 funding endpoints and pushes for one :class:`OkxProtocol`."""

    def __init__(self, protocol: OkxProtocol) -> None:
        self.p = protocol
        self.funding_bills: list[dict[str, Any]] = []  # type 8 bills, oldest first
        protocol.engine.funding.listeners.append(self._on_settlement)

    async def bills(self, params: dict[str, Any]) -> web.Response:
        """``/account/bills[-archive]``: the funding-fee bills (``type=8``), newest first."""
        kind = params.get("type")
        rows = [
            b
            for b in reversed(self.funding_bills)
            if kind in (None, "8")
            and params.get("instId") in (None, b["instId"])
            and params.get("ccy") in (None, b["ccy"])
        ]
        return self.p.ok(rows[: int(params.get("limit") or 100)])

    def register(self, app: web.Application, prefix: str) -> None:
        """Add the funding routes under ``prefix`` (``/api/v5``)."""
        app.router.add_get(prefix + "/public/funding-rate-history", self.history)
        app.router.add_get(prefix + "/public/open-interest", self.open_interest)

    def funding_dict(self, inst_id: str) -> dict[str, Any]:
        """Return ``/public/funding-rate``'s row (``fundingTime`` = the next settlement)."""
        state = self.p.engine.funding.state(inst_id)
        next_ms = state.next_funding_ms
        return {
            "fundingRate": dec_str(state.rate),
            "fundingTime": ms_str(next_ms),
            "impactValue": "",
            "instId": inst_id,
            "instType": "SWAP",
            "interestRate": "0.0001",
            "maxFundingRate": "0.00375",
            "method": "current_period",
            "minFundingRate": "-0.00375",
            "nextFundingRate": dec_str(state.predicted_rate) if state.predicted_rate is not None else "",
            "nextFundingTime": ms_str(next_ms + state.interval_ms),
            "premium": "0",
            "settFundingRate": dec_str(state.history[-1].rate if state.history else state.rate),
            "settState": "settled",
            "ts": ms_str(self.p.exchange.now_ms()),
        }

    async def history(self, request: web.Request) -> web.Response:
        """GET /public/funding-rate-history (newest first; ``after``/``before`` are exclusive)."""
        q = request.query
        inst_id = q.get("instId", "")
        if inst_id not in self.p.engine.markets:
            return self.p.error("51001", "Instrument ID does not exist.", status=400)
        limit = min(_int(q.get("limit"), 100) or 100, 400)
        after, before = _int(q.get("after")), _int(q.get("before"))
        points = [
            p
            for p in self.p.engine.funding.history(inst_id)
            if (after is None or p.ts_ms < after) and (before is None or p.ts_ms > before)
        ]
        rows = [
            {
                "instType": "SWAP",
                "instId": inst_id,
                "formulaType": "withRate",
                "fundingRate": dec_str(p.rate),
                "realizedRate": dec_str(p.rate),
                "fundingTime": ms_str(p.ts_ms),
                "method": "current_period",
            }
            for p in reversed(points)
        ]
        return self.p.ok(rows[:limit])

    async def open_interest(self, request: web.Request) -> web.Response:
        """GET /public/open-interest."""
        inst_id = request.query.get("instId")
        ids = [inst_id] if inst_id else list(self.p.engine.markets)
        if any(i not in self.p.engine.markets for i in ids):
            return self.p.error("51001", "Instrument ID does not exist.", status=400)
        now = ms_str(self.p.exchange.now_ms())
        rows = []
        for i in ids:
            spec = self.p.engine.markets[i]
            oi = self.p.engine.funding.state(i).open_interest  # in base (coin)
            contracts = oi / spec.contract_size
            rows.append(
                {
                    "instType": "SWAP",
                    "instId": i,
                    "oi": dec_str(contracts),
                    "oiCcy": dec_str(oi),
                    "oiUsd": dec_str(oi * self.p.engine.funding.mark(i)),
                    "ts": now,
                }
            )
        return self.p.ok(rows)

    def _on_settlement(self, s: FundingSettlement) -> None:
        from nautilus_ext_testkit.fake_exchange.okx_wire import USER

        if s.account != USER:
            return
        pos = self.p.engine.position(s.account, s.symbol)
        ccy = self.p.engine.markets[s.symbol].quote
        position = self.p.position_dict(pos)
        self.funding_bills.append(
            {
                "bal": dec_str(s.balance_after),
                "balChg": dec_str(s.amount),
                "billId": str(8_000_000_000 + len(self.funding_bills)),
                "ccy": ccy,
                "execType": "",
                "fee": "0",
                "from": "",
                "instId": s.symbol,
                "instType": "SWAP",
                "mgnMode": "cross",
                "notes": "",
                "ordId": "",
                "pnl": dec_str(s.amount),
                "posBal": "0",
                "posBalChg": "0",
                "subType": "174" if s.amount >= 0 else "173",  # funding fee income / expense
                "sz": dec_str(abs(s.position_qty)),
                "to": "",
                "ts": ms_str(s.ts_ms),
                "type": "8",
            }
        )
        self.p._private_push(
            "balance_and_position",
            [
                {
                    "pTime": ms_str(s.ts_ms),
                    "eventType": "funding_fee",
                    "balData": [{"ccy": ccy, "cashBal": dec_str(s.balance_after), "uTime": ms_str(s.ts_ms)}],
                    "posData": [position],
                    "trades": [],
                }
            ],
        )
        self.p._private_push("account", [self.p.balance_dict()])
        self.p._private_push("positions", [position])


# -- Hyperliquid ------------------------------------------------------------------------------


class HyperliquidFunding:
    """Hyperliquid funding ``/info`` types and pushes for one :class:`HyperliquidProtocol`."""

    def __init__(self, protocol: HyperliquidProtocol) -> None:
        self.p = protocol
        self.user_fundings: list[dict[str, Any]] = []
        protocol.engine.funding.listeners.append(self._on_settlement)

    def asset_ctx_fields(self, coin: str) -> dict[str, Any]:
        """Return the funding, OI, mark/oracle and volume fields of an asset context."""
        f = self.p.engine.funding
        state = f.state(coin)
        return {
            "funding": _s(state.rate),
            "openInterest": _s(state.open_interest),
            "dayNtlVlm": _s(state.volume_24h),
            "oraclePx": _s(f.index(coin)),
            "markPx": _s(f.mark(coin)),
        }

    def info(self, kind: str, body: dict[str, Any]) -> tuple[bool, Any]:
        """Answer the funding ``/info`` types; ``(False, None)`` for any other type."""
        engine = self.p.engine
        if kind == "fundingHistory":
            coin = str(body.get("coin", ""))
            if coin not in engine.markets:
                return True, []
            start = int(body.get("startTime") or 0)
            end = _int(body.get("endTime"))
            points = engine.funding.history(coin, start, end)[:500]
            return True, [
                {"coin": coin, "fundingRate": _s(p.rate), "premium": "0.0", "time": p.ts_ms} for p in points
            ]
        if kind == "predictedFundings":
            return True, [
                [
                    coin,
                    [
                        [
                            "HlPerp",
                            {
                                "fundingRate": _s(
                                    state.predicted_rate if state.predicted_rate is not None else state.rate
                                ),
                                "nextFundingTime": state.next_funding_ms,
                                "fundingIntervalHours": state.interval_hours,
                            },
                        ]
                    ],
                ]
                for coin, state in engine.funding.states.items()
            ]
        if kind == "userFunding":
            user = str(body.get("user", "")).lower()
            start = int(body.get("startTime") or 0)
            rows = [r for r in self.user_fundings if r["user"] == user and r["time"] >= start]
            return True, [{k: v for k, v in r.items() if k != "user"} for r in rows]
        return False, None

    def _on_settlement(self, s: FundingSettlement) -> None:
        if s.account != self.p.wallet:
            return
        self.user_fundings.append(
            {
                "user": s.account,
                "time": s.ts_ms,
                "hash": "0x" + "0" * 64,
                "delta": {
                    "type": "funding",
                    "coin": s.symbol,
                    "usdc": _s(s.amount),
                    "szi": _s(s.position_qty),
                    "fundingRate": _s(s.rate),
                    "nSamples": None,
                },
            }
        )
        funding = {
            "time": s.ts_ms,
            "coin": s.symbol,
            "usdc": _s(s.amount),
            "szi": _s(s.position_qty),
            "fundingRate": _s(s.rate),
        }
        from nautilus_ext_testkit.fake_exchange.hyperliquid import WS_PATH

        self.p.exchange.broadcast(
            WS_PATH,
            f"userFundings:{self.p.wallet}",
            {
                "channel": "userFundings",
                "data": {"isSnapshot": False, "user": self.p.wallet, "fundings": [funding]},
            },
            private=True,
            user=self.p.wallet,
        )


__all__ = ["BinanceFunding", "BybitFunding", "HyperliquidFunding", "OkxFunding"]
