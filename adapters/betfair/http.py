"""NautilusTrader's ``BetfairHttpClient`` with its requests sent to a configurable origin."""

from __future__ import annotations

from betfair_parser.endpoints import ENDPOINTS
from betfair_parser.spec.common import Request
from nautilus_trader.adapters.betfair.client import BetfairHttpClient
from nautilus_trader.core.nautilus_pyo3 import HttpMethod
from nautilus_trader.core.nautilus_pyo3 import HttpResponse
from nautilus_trader.core.nautilus_pyo3 import Quota

from nautilus_ext.adapters.betfair.credentials import BetfairCredentials
from nautilus_ext.adapters.betfair.urls import rewrite_url


class BetfairUrlHttpClient(BetfairHttpClient):
    """
    ``BetfairHttpClient`` whose requests go to ``base_url`` (Betfair's paths kept).

    The one override is the URL: 1.231 resolves it from ``betfair_parser``'s global
    ``ENDPOINTS`` inside ``_request``, so ``_request`` is re-implemented here with the same
    headers, body and rate-limit keys and the URL passed through :func:`rewrite_url`. Login,
    keep-alive, navigation, catalogue, accounts and order calls are NautilusTrader's.

    Parameters
    ----------
    credentials : BetfairCredentials
        The login and application key.
    base_url : str, optional
        The origin to send every request to (``None``: Betfair's own hosts).
    proxy_url : str, optional
        HTTP proxy.
    ratelimiter_default_quota, ratelimiter_keyed_quotas : optional
        As NautilusTrader's client.
    """

    def __init__(
        self,
        credentials: BetfairCredentials,
        base_url: str | None = None,
        proxy_url: str | None = None,
        ratelimiter_default_quota: Quota | None = None,
        ratelimiter_keyed_quotas: list[tuple[str, Quota]] | None = None,
    ) -> None:
        super().__init__(
            username=credentials.username,
            password=credentials.password,
            app_key=credentials.app_key,
            proxy_url=proxy_url,
            ratelimiter_default_quota=ratelimiter_default_quota,
            ratelimiter_keyed_quotas=ratelimiter_keyed_quotas,
        )
        self.base_url = base_url

    def url_for(self, request: Request) -> str:
        """Return the URL ``request`` is sent to."""
        return rewrite_url(ENDPOINTS.url_for_request(request), self.base_url)

    async def _request(self, method: HttpMethod, request: Request) -> HttpResponse:
        url = self.url_for(request)
        body = request.body()
        if isinstance(body, str):
            body = body.encode()
        response: HttpResponse = await self._client.request(
            method,
            url,
            headers=self._headers,
            body=body,
            keys=self._rate_limit_keys(request),
        )
        return response
