"""
OKX v5 wire shapes for the fake exchange: instruments, books (with OKX's checksum), tickers,
orders, fills, positions and balances with OKX's field names, rendered from the matching
engine's state (quantities in contracts of ``ctVal`` base units).

Field sets follow https://www.okx.com/docs-v5/en/ and the recorded payloads in
NautilusTrader's ``crates/adapters/okx/test_data`` (the tests compare key sets with them).
:mod:`.okx` serves them over REST and WebSocket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.funding_venues import OkxFunding
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange

USER: Final = "USER"
UID: Final = "448965992920907776"
BOOK_CHANNEL_DEPTH: Final = {"books": 400, "books5": 5, "bbo-tbt": 1}
CHECKSUM_LEVELS: Final = 25
_STATE: Final = {
    OrderStatus.NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.REJECTED: "canceled",
}
_ORD_TYPE_OUT: Final = {
    TimeInForce.GTC: "limit",
    TimeInForce.POST_ONLY: "post_only",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
}
# cancelSource codes (OKX docs, Order channel): 1 canceled by the user; 31 "The post-only
# order will take liquidity in taker orders"
_CANCEL_SOURCE: Final = {"CANCEL_BY_USER": "1", "POST_ONLY_WOULD_TAKE": "31"}


def default_okx_markets() -> list[MarketSpec]:
    """Return BTC-USDT-SWAP and ETH-USDT-SWAP with OKX's real filters and contract values."""
    return [
        MarketSpec(
            "BTC-USDT-SWAP",
            "BTC",
            "USDT",
            Decimal("0.1"),
            Decimal("0.01"),
            Decimal("0.01"),
            Decimal("0.0002"),
            Decimal("0.0005"),
            contract_size=Decimal("0.01"),
        ),
        MarketSpec(
            "ETH-USDT-SWAP",
            "ETH",
            "USDT",
            Decimal("0.01"),
            Decimal("0.01"),
            Decimal("0.01"),
            Decimal("0.0002"),
            Decimal("0.0005"),
            contract_size=Decimal("0.1"),
        ),
    ]


def dec_str(value: Decimal | None) -> str:
    """Return a decimal as OKX writes it (plain notation; empty for none)."""
    return "" if value is None else format(value.normalize(), "f")


def ms_str(ts_ms: int) -> str:
    """Return a Unix-millisecond timestamp as OKX writes it (a string)."""
    return str(ts_ms)


def sign(secret: str, message: str) -> str:
    """Return OKX's signature: base64 of HMAC-SHA256 of ``message`` keyed by ``secret``."""
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def book_checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """
    Return OKX's order-book checksum: the signed CRC32 of the first 25 levels of each side,
    interleaved ``bid_px:bid_sz:ask_px:ask_sz:...`` (a side that runs out is skipped).
    """
    parts: list[str] = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts += [bids[i][0], bids[i][1]]
        if i < len(asks):
            parts += [asks[i][0], asks[i][1]]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class OkxWireShapes:
    """Render the engine's state in OKX's shapes (mixed into :class:`.okx.OkxProtocol`)."""

    exchange: FakeExchange
    engine: MatchingEngine
    funding: OkxFunding

    def instrument_dict(self, spec: MarketSpec) -> dict[str, Any]:
        """Return an instrument in OKX's SWAP shape (``/public/instruments`` and WS)."""
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": "",
            "category": "1",
            "contTdSwTime": "",
            "ctMult": "1",
            "ctType": "linear",
            "ctVal": dec_str(spec.contract_size),
            "ctValCcy": spec.base,
            "expTime": "",
            "futureSettlement": False,
            "instFamily": f"{spec.base}-{spec.quote}",
            "instId": spec.symbol,
            "instIdCode": 10000 + list(self.engine.markets).index(spec.symbol),
            "instType": "SWAP",
            "lever": str(spec.max_leverage),
            "listTime": "1573557408000",
            "lotSz": dec_str(spec.qty_step),
            "maxIcebergSz": "100000000.0000000000000000",
            "maxLmtAmt": "20000000",
            "maxLmtSz": "100000000",
            "maxMktAmt": "",
            "maxMktSz": "20000",
            "maxPlatOILmt": "",
            "maxStopSz": "20000",
            "maxTriggerSz": "100000000.0000000000000000",
            "maxTwapSz": "100000000.0000000000000000",
            "minSz": dec_str(spec.min_qty),
            "openType": "",
            "optType": "",
            "posLmtAmt": "",
            "posLmtPct": "",
            "preMktSwTime": "",
            "quoteCcy": "",
            "ruleType": "normal",
            "settleCcy": spec.quote,
            "state": "live",
            "stk": "",
            "tickSz": dec_str(spec.tick_size),
            "tradeQuoteCcyList": [],
            "uly": f"{spec.base}-{spec.quote}",
        }

    def _funding_dict(self, inst_id: str) -> dict[str, Any]:
        return self.funding.funding_dict(inst_id)

    def _mark_dict(self, inst_id: str) -> dict[str, Any]:
        return {
            "instType": "SWAP",
            "instId": inst_id,
            "markPx": dec_str(self.engine.funding.mark(inst_id)),
            "ts": ms_str(self.exchange.now_ms()),
        }

    def _levels(self, inst_id: str, depth: int) -> tuple[list[list[str]], list[list[str]]]:
        bids, asks = self.engine.levels(inst_id, depth)
        counts = self._order_counts(inst_id)
        return (
            [[dec_str(p), dec_str(q), "0", str(counts.get((Side.BUY, p), 0))] for p, q in bids],
            [[dec_str(p), dec_str(q), "0", str(counts.get((Side.SELL, p), 0))] for p, q in asks],
        )

    def _order_counts(self, inst_id: str) -> dict[tuple[Side, Decimal], int]:
        counts: dict[tuple[Side, Decimal], int] = {}
        for order in self.engine.orders.values():
            if order.symbol == inst_id and order.is_open and order.price is not None:
                key = (order.side, order.price)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def _trade_dict(self, trade: PublicTrade) -> dict[str, Any]:
        return {
            "instId": trade.symbol,
            "side": trade.side.value,
            "sz": dec_str(trade.qty),
            "px": dec_str(trade.price),
            "tradeId": trade.trade_id.lstrip("T").lstrip("0") or "0",
            "ts": ms_str(trade.ts_ms),
        }

    def ticker_dict(self, inst_id: str) -> dict[str, Any]:
        """Return a ticker in OKX's shape (REST and the ``tickers`` channel)."""
        bids, asks = self.engine.levels(inst_id, 1)
        tape = self.engine.trades.get(inst_id) or []
        last = tape[-1].price if tape else self.engine.mark_price(inst_id)
        last_sz = tape[-1].qty if tape else Decimal(0)
        volume = sum((t.qty for t in tape), Decimal(0))
        contract = self.engine.markets[inst_id].contract_size
        quoted = self.engine.funding.state(inst_id).volume_24h  # a configured 24 h quote volume
        mark = self.engine.funding.mark(inst_id)
        if quoted and mark:
            volume = quoted / mark / contract
        return {
            "instType": "SWAP",
            "instId": inst_id,
            "last": dec_str(last),
            "lastSz": dec_str(last_sz),
            "askPx": dec_str(asks[0][0]) if asks else "",
            "askSz": dec_str(asks[0][1]) if asks else "0",
            "bidPx": dec_str(bids[0][0]) if bids else "",
            "bidSz": dec_str(bids[0][1]) if bids else "0",
            "open24h": dec_str(last),
            "high24h": dec_str(last),
            "low24h": dec_str(last),
            "volCcy24h": dec_str(volume * contract),
            "vol24h": dec_str(volume),
            "sodUtc0": dec_str(last),
            "sodUtc8": dec_str(last),
            "ts": ms_str(self.exchange.now_ms()),
        }

    def currency_rows(self) -> list[dict[str, Any]]:
        """Return ``/asset/currencies`` rows (one chain per currency)."""
        coins = sorted({c for m in self.engine.markets.values() for c in (m.base, m.quote)})
        return [
            {
                "canDep": True,
                "canInternal": True,
                "canWd": True,
                "ccy": coin,
                "chain": f"{coin}-ERC20",
                "depQuotaFixed": "",
                "depQuoteDailyLayer2": "",
                "logoLink": "",
                "mainNet": False,
                "maxFee": "0",
                "maxFeeForCtAddr": "0",
                "maxWd": "1000000",
                "minDep": "0.00000001",
                "minDepArrivalConfirm": "64",
                "minFee": "0",
                "minFeeForCtAddr": "0",
                "minWd": "0.0001",
                "minWdUnlockConfirm": "96",
                "name": coin,
                "needTag": False,
                "usedDepQuotaFixed": "",
                "usedWdQuota": "0",
                "wdQuota": "10000000",
                "wdTickSz": "8",
            }
            for coin in coins
        ]

    def account_config_row(self) -> dict[str, Any]:
        """Return the ``/account/config`` row (single-currency margin, net position mode)."""
        return {
            "acctLv": "2",
            "acctStpMode": "cancel_maker",
            "autoLoan": False,
            "ctIsoMode": "automatic",
            "enableSpotBorrow": False,
            "greeksType": "PA",
            "ip": "",
            "kycLv": "2",
            "label": "fake",
            "level": "Lv1",
            "levelTmp": "",
            "liquidationGear": "-1",
            "mainUid": UID,
            "mgnIsoMode": "automatic",
            "opAuth": "0",
            "perm": "read_only,trade",
            "posMode": "net_mode",
            "roleType": "0",
            "spotBorrowAutoRepay": False,
            "spotOffsetType": "",
            "spotRoleType": "0",
            "spotTraderInsts": [],
            "traderInsts": [],
            "type": "0",
            "uid": UID,
        }

    def balance_dict(self) -> dict[str, Any]:
        """Return the account in OKX's ``/account/balance`` shape (one USDT row)."""
        total = self.engine.balances.get(USER, Decimal(0))
        available = self.engine.available_balance(USER)
        upl = sum(
            (
                p.qty
                * self.engine.markets[p.symbol].contract_size
                * (self.engine.mark_price(p.symbol) - p.avg_price)
                for (acct, _), p in self.engine.positions.items()
                if acct == USER and p.qty
            ),
            Decimal(0),
        )
        now = ms_str(self.exchange.now_ms())
        detail = {
            "accAvgPx": "",
            "availBal": dec_str(available),
            "availEq": dec_str(available),
            "borrowFroz": "",
            "cashBal": dec_str(total),
            "ccy": "USDT",
            "clSpotInUseAmt": "",
            "collateralEnabled": False,
            "crossLiab": "",
            "disEq": dec_str(total + upl),
            "eq": dec_str(total + upl),
            "eqUsd": dec_str(total + upl),
            "fixedBal": "0",
            "frozenBal": dec_str(total - available),
            "imr": "0",
            "interest": "",
            "isoEq": "0",
            "isoLiab": "",
            "isoUpl": "0",
            "liab": "",
            "maxLoan": "",
            "maxSpotInUseAmt": "",
            "mgnRatio": "",
            "mmr": "0",
            "notionalLever": "0",
            "openAvgPx": "",
            "ordFrozen": "0",
            "rewardBal": "0",
            "smtSyncEq": "0",
            "spotBal": "",
            "spotCopyTradingEq": "0",
            "spotInUseAmt": "",
            "spotIsoBal": "0",
            "spotUpl": "",
            "spotUplRatio": "",
            "stgyEq": "0",
            "totalPnl": "",
            "totalPnlRatio": "",
            "twap": "0",
            "uTime": now,
            "upl": dec_str(upl),
            "uplLiab": "",
        }
        return {
            "adjEq": "",
            "availEq": "",
            "borrowFroz": "",
            "details": [detail],
            "imr": "",
            "isoEq": "0",
            "mgnRatio": "",
            "mmr": "",
            "notionalUsd": "",
            "notionalUsdForBorrow": "",
            "notionalUsdForFutures": "",
            "notionalUsdForOption": "",
            "notionalUsdForSwap": "",
            "ordFroz": "",
            "totalEq": dec_str(total + upl),
            "uTime": now,
            "upl": dec_str(upl),
        }

    def position_dict(self, pos: EnginePosition) -> dict[str, Any]:
        """Return a position in OKX's net-mode shape (``pos`` is signed, in contracts)."""
        spec = self.engine.markets[pos.symbol]
        mark = self.engine.mark_price(pos.symbol)
        upl = pos.qty * spec.contract_size * (mark - pos.avg_price) if pos.qty else Decimal(0)
        notional = abs(pos.qty) * spec.contract_size * mark
        return {
            "adl": "1",
            "availPos": "",
            "avgPx": dec_str(pos.avg_price) if pos.qty else "",
            "baseBal": "",
            "baseBorrowed": "",
            "baseInterest": "",
            "bePx": dec_str(pos.avg_price) if pos.qty else "",
            "bizRefId": "",
            "bizRefType": "",
            "cTime": ms_str(pos.updated_ms),
            "ccy": spec.quote,
            "clSpotInUseAmt": "",
            "closeOrderAlgo": [],
            "deltaBS": "",
            "deltaPA": "",
            "fee": "0",
            "fundingFee": "0",
            "gammaBS": "",
            "gammaPA": "",
            "idxPx": dec_str(mark),
            "imr": dec_str(notional / self.engine.leverage),
            "instId": pos.symbol,
            "instType": "SWAP",
            "interest": "",
            "last": dec_str(mark),
            "lever": dec_str(self.engine.leverage),
            "liab": "",
            "liabCcy": "",
            "liqPenalty": "0",
            "liqPx": "",
            "margin": "",
            "markPx": dec_str(mark),
            "maxSpotInUseAmt": "",
            "mgnMode": "cross",
            "mgnRatio": "",
            "mmr": dec_str(notional * Decimal("0.004")),
            "notionalUsd": dec_str(notional),
            "optVal": "",
            "pendingCloseOrdLiabVal": "",
            "pnl": dec_str(pos.realized_pnl),
            "pos": dec_str(pos.qty),
            "posCcy": "",
            "posId": f"{UID[:10]}{list(self.engine.markets).index(pos.symbol):04d}",
            "posSide": "net",
            "quoteBal": "",
            "quoteBorrowed": "",
            "quoteInterest": "",
            "realizedPnl": dec_str(pos.realized_pnl),
            "spotInUseAmt": "",
            "spotInUseCcy": "",
            "thetaBS": "",
            "thetaPA": "",
            "tradeId": "",
            "uTime": ms_str(pos.updated_ms),
            "upl": dec_str(upl),
            "uplLastPx": dec_str(upl),
            "uplRatio": "0",
            "uplRatioLastPx": "0",
            "usdPx": "",
            "vegaBS": "",
            "vegaPA": "",
        }

    def order_dict(self, order: EngineOrder, fill: EngineFill | None = None) -> dict[str, Any]:
        """Return an order in OKX's shape (REST and the ``orders`` channel, with ``fill``'s fields)."""
        spec = self.engine.markets[order.symbol]
        fill_fee = -fill.fee if fill else Decimal(0)
        return {
            "accFillSz": dec_str(order.filled) if order.filled else "0",
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": dec_str(order.avg_price) if order.avg_price is not None else "0",
            "cTime": ms_str(order.created_ms),
            "cancelSource": _CANCEL_SOURCE.get(order.cancel_reason, "")
            if order.status is OrderStatus.CANCELED
            else "",
            "cancelSourceReason": "",
            "category": "normal",
            "ccy": "",
            "clOrdId": order.client_id,
            "execType": ("M" if fill.is_maker else "T") if fill else "",
            "fee": dec_str(-order.fee_paid) if order.fee_paid else "0",
            "feeCcy": spec.quote,
            "fillFee": dec_str(fill_fee) if fill else "0",
            "fillFeeCcy": spec.quote if fill else "",
            "fillMarkPx": dec_str(self.engine.mark_price(order.symbol)) if fill else "",
            "fillPnl": "0",
            "fillPx": dec_str(fill.price) if fill else "",
            "fillSz": dec_str(fill.qty) if fill else "0",
            "fillTime": ms_str(fill.ts_ms) if fill else "",
            "instId": order.symbol,
            "instType": "SWAP",
            "isTpLimit": "false",
            "lever": dec_str(self.engine.leverage),
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": order.order_id,
            "ordType": "market" if order.order_type == "market" else _ORD_TYPE_OUT[order.tif],
            "pnl": "0",
            "posSide": "net",
            "px": dec_str(order.price) if order.price is not None else "",
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": spec.quote,
            "reduceOnly": "true" if order.reduce_only else "false",
            "side": order.side.value,
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": _STATE[order.status],
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": dec_str(order.qty),
            "tag": "",
            "tdMode": "cross",
            "tgtCcy": "",
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": fill.exec_id.split("-")[0].lstrip("T").lstrip("0") if fill else "",
            "uTime": ms_str(order.updated_ms),
        }

    def fill_dict(self, fill: EngineFill) -> dict[str, Any]:
        """Return a fill in OKX's ``/trade/fills`` shape (fee negative when charged)."""
        spec = self.engine.markets[fill.symbol]
        return {
            "instType": "SWAP",
            "instId": fill.symbol,
            "tradeId": fill.exec_id.split("-")[0].lstrip("T").lstrip("0"),
            "ordId": fill.order_id,
            "clOrdId": fill.client_id,
            "billId": str(fill.seq),
            "subType": "1" if fill.side is Side.BUY else "2",
            "tag": "",
            "fillPx": dec_str(fill.price),
            "fillSz": dec_str(fill.qty),
            "fillIdxPx": dec_str(self.engine.mark_price(fill.symbol)),
            "fillPnl": "0",
            "fillPxVol": "",
            "fillPxUsd": "",
            "fillMarkVol": "",
            "fillFwdPx": "",
            "fillMarkPx": dec_str(self.engine.mark_price(fill.symbol)),
            "side": fill.side.value,
            "posSide": "net",
            "execType": "M" if fill.is_maker else "T",
            "feeCcy": spec.quote,
            "fee": dec_str(-fill.fee),
            "ts": ms_str(fill.ts_ms),
            "fillTime": ms_str(fill.ts_ms),
            "feeRate": dec_str(-fill.fee_rate),
        }

    def _book_message(
        self,
        channel: str,
        inst_id: str,
        action: str | None,
        changes: tuple[list[list[str]], list[list[str]]] | None = None,
    ) -> dict[str, Any]:
        depth = BOOK_CHANNEL_DEPTH[channel]
        full_bids, full_asks = self._levels(inst_id, depth)
        seq = self.engine.book_seq[inst_id]
        bids, asks = changes if changes is not None else (full_bids, full_asks)
        data: dict[str, Any] = {
            "asks": asks,
            "bids": bids,
            "ts": ms_str(self.exchange.now_ms()),
            "seqId": seq,
        }
        if channel == "books":
            # the checksum covers the book after the update, whatever the message carries
            data["checksum"] = book_checksum(full_bids, full_asks)
            data["prevSeqId"] = -1 if action == "snapshot" else seq - 1
        elif channel == "books5":
            data["instId"] = inst_id
        message: dict[str, Any] = {"arg": {"channel": channel, "instId": inst_id}}
        if action is not None:
            message["action"] = action
        message["data"] = [data]
        return message
