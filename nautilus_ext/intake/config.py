"""The ``intake:`` section of a live node's YAML, and the frozen config of the intake strategy."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import model_validator

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntakeClientSection(_Strict):
    """
    One client of the intake.

    Attributes
    ----------
    name : str
        Label in logs and the audit rationale (never the token).
    token_env : str
        Environment variable holding the client's bearer token (read by the node at start; only
        its SHA-256 is kept in memory).
    strategy_ids : list[str]
        The ``Order.strategy_id`` values this client may submit for, cancel and stream.
    """

    name: str = Field(pattern=r"^[\w.-]+$")
    token_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")
    strategy_ids: list[str] = Field(min_length=1)


class IntakeTlsSection(_Strict):
    """TLS for the intake port; with ``client_ca_path`` clients must present a certificate (mTLS)."""

    cert_path: str
    key_path: str
    client_ca_path: str | None = None


class IntakeSection(_Strict):
    """
    Accept orders from other processes over gRPC (opt-in).

    Attributes
    ----------
    host : str
        Address to bind (default loopback; anything else needs ``allow_remote: true``).
    port : int
        TCP port (0 picks a free one, logged at start).
    allow_remote : bool
        Permit a non-loopback ``host``.
    clients : list[IntakeClientSection]
        Who may connect, each with its token and strategy-id allowlist.
    tls : IntakeTlsSection, optional
        Server certificate, and client CA for mTLS.
    instrument_ids : list[str]
        Nautilus instrument ids the intake subscribes to (default: every venue's).
    max_pending_batches : int
        Submitted batches waiting for the node's event loop; one more is refused ``RATE_LIMITED``.
    max_batch_orders : int
        Orders in one ``SubmitOrders`` call.
    orders_per_sec : float
        Sustained orders per second per client (token bucket).
    burst_orders : int
        Token bucket depth per client.
    result_retention : int
        Result events kept for resuming streams (older cursors get ``OUT_OF_RANGE``).
    submit_timeout_secs : float
        How long a submit waits for the node to take it.
    max_workers : int
        gRPC server threads (concurrent RPCs being served; more are refused by gRPC).
    """

    host: str = "127.0.0.1"
    port: int = Field(default=50_551, ge=0, le=65_535)
    allow_remote: bool = False
    clients: list[IntakeClientSection] = Field(min_length=1)
    tls: IntakeTlsSection | None = None
    instrument_ids: list[str] = Field(default_factory=list)
    max_pending_batches: int = Field(default=64, gt=0)
    max_batch_orders: int = Field(default=100, gt=0)
    orders_per_sec: float = Field(default=50.0, gt=0)
    burst_orders: int = Field(default=100, gt=0)
    result_retention: int = Field(default=100_000, gt=0)
    submit_timeout_secs: float = Field(default=10.0, gt=0)
    max_workers: int = Field(default=16, gt=1)

    @model_validator(mode="after")
    def _check(self) -> IntakeSection:
        if self.host not in LOOPBACK and not self.allow_remote:
            raise ValueError("intake.host: binds to loopback unless intake.allow_remote is true")
        names = [c.name for c in self.clients]
        if len(names) != len(set(names)):
            raise ValueError(f"intake.clients: duplicate name in {names}")
        if self.burst_orders < self.max_batch_orders:
            raise ValueError(
                "intake.burst_orders must be >= max_batch_orders (a full batch could never pass)"
            )
        return self
