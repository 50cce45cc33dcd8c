"""
A local IB Gateway for tests: the TWS API socket protocol on 127.0.0.1, well enough that
NautilusTrader's Interactive Brokers clients (over ``nautilus_ibapi``) and ``ib_async`` connect
to it unmodified.

Implemented (text protocol at server version 178, :data:`~.wire.SERVER_VERSION`):

* handshake: ``API\\0`` + length-prefixed ``v<min>..<max>``; the reply carries the negotiated
  version (178, or the client's maximum if lower and >= 157) and the connection time; ``startApi``
  answers ``nextValidId``, ``managedAccounts`` and the farm-status notices 2104/2106; a second
  session with a client id in use gets error 326 and is closed (a session whose peer has already
  closed its socket no longer holds its id).
* contracts: ``reqContractDetails`` for futures (ES, NQ, 6E on CME; CL on NYMEX; ZN on CBOT; GC
  on COMEX; quarterly or monthly cycles with rule-based last trade dates) and ES futures options
  (FOP, trading class ES, strikes 4500/5000/5500), matched by conId, local symbol, symbol or
  trading class, month or date, strike, right; ``includeExpired`` against :attr:`today`; error
  200 when nothing matches.
* market data: ``reqMktData`` (bid/ask/last ``tickPrice`` with sizes), ``reqTickByTickData``
  (BidAsk, Last, AllLast, MidPoint), ``reqMktDepth`` (5 levels a side, ``updateMktDepth``),
  ``reqHistoricalData`` (deterministic bars around the quote; formatDate 1 or 2; at most 500);
  pushed again on :meth:`FakeIBGateway.set_quote` and, with
  :meth:`FakeIBGateway.stream_quotes`, every interval (a live feed).
* orders: ``placeOrder`` MKT and LMT (a repeated order id modifies quantity/limit) ->
  ``openOrder`` + ``orderStatus``; fills -> ``execDetails``, ``orderStatus``,
  ``commissionReport`` ($2.25 a contract); marketable orders fill at the touch (optionally
  partially first: ``partial_fill_quantity``); resting limits fill on :meth:`~FakeIBGateway.trade`;
  ``cancelOrder`` -> ``orderStatus Cancelled`` + error 202, unknown or finished -> 10147;
  rejects -> 201 (size above ``max_order_quantity``, unsupported order type, expired contract,
  price off the tick grid, market order without a quote); ``reqOpenOrders``/``reqAllOpenOrders``/
  ``reqAutoOpenOrders`` -> working orders + ``openOrderEnd``; ``reqExecutions`` -> every fill
  with its commission + ``execDetailsEnd`` (no filter applied).
* account: ``reqPositions`` (+ ``positionEnd``), ``reqAccountUpdates`` (``updateAccountValue``
  for cash, equity, margins, available funds, buying power + ``accountDownloadEnd``),
  ``reqAccountSummary`` (same tags + end), ``reqPnL`` (realized = minus commissions).
* connectivity: :meth:`~FakeIBGateway.connectivity_lost` sends 1100 and holds order events,
  :meth:`~FakeIBGateway.connectivity_restored` sends 1102 (1101 with data lost) and delivers them;
  :meth:`~FakeIBGateway.drop_connections` closes every socket (clients reconnect).

Not implemented: the protobuf protocol (server versions >= 201), stop/trailing/algo/bracket/OCA
orders, combos (BAG), what-if orders, completed orders (only ``completedOrdersEnd``), portfolio
updates (``updatePortfolio``), ``reqPnLSingle``, real-time bars, scanners, news, option
computations/greeks, ``reqSecDefOptParams``, market data types other than live, FA accounts,
execution filters, pacing violations, trading-hours enforcement, exchange holidays in the
last-trade-date rules, and ``keepUpToDate`` bar streaming. Unknown requests are ignored.
"""

from nautilus_ext_testkit.fake_ib.contracts import ROOTS
from nautilus_ext_testkit.fake_ib.contracts import ListedContract
from nautilus_ext_testkit.fake_ib.contracts import default_listing
from nautilus_ext_testkit.fake_ib.server import ACCOUNT
from nautilus_ext_testkit.fake_ib.server import FakeIBGateway
from nautilus_ext_testkit.fake_ib.server import FakeOrder
from nautilus_ext_testkit.fake_ib.server import Fill
from nautilus_ext_testkit.fake_ib.wire import SERVER_VERSION

__all__ = [
    "ACCOUNT",
    "ROOTS",
    "SERVER_VERSION",
    "FakeIBGateway",
    "FakeOrder",
    "Fill",
    "ListedContract",
    "default_listing",
]
