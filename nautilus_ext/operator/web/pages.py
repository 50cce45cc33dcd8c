"""
Server-rendered HTML of the web console: pages and the live fragments the event stream pushes.

Every value is escaped; no secret reaches these functions (the session's CSRF token is the only
token rendered, into its own hidden form fields).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from html import escape
from typing import Any
from typing import Final

from nautilus_ext.audit.lineage import Lineage
from nautilus_ext.audit.lineage import format_ns
from nautilus_ext.operator.web.auth import Role
from nautilus_ext.operator.web.auth import Session
from nautilus_ext.operator.web.state import Snapshot

_CSS: Final = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}
header{background:#1d2733;color:#fff;padding:.6em 1em;display:flex;gap:1.5em;align-items:center}
header a{color:#cfe3ff} header .who{margin-left:auto}
main{padding:1em;display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1em}
section{background:#fff;border-radius:6px;padding:.6em 1em;box-shadow:0 1px 2px #0002;overflow-x:auto}
section#tradebook,section#alerts{grid-column:1/-1}
h2{font-size:1.05em;margin:.2em 0 .5em} table{border-collapse:collapse;width:100%;font-size:.88em}
td,th{border-bottom:1px solid #e3e5e8;padding:3px 6px;text-align:left} th{background:#fafbfc}
.bad{color:#b00020;font-weight:600} .ok{color:#11772d;font-weight:600} .muted{color:#777}
.flash{background:#fff7d6;border:1px solid #e6c200;padding:.5em 1em;margin:1em 1em 0}
form.inline{display:inline-block;margin:.2em .4em .2em 0} input{font-size:.9em}
button{font-size:.9em;cursor:pointer} button.danger{background:#b00020;color:#fff;border:0;padding:3px 8px}
ol li{margin:.5em 0} code{font-size:.85em;word-break:break-all} pre{white-space:pre-wrap;font-size:.85em}
"""

SECTIONS: Final = ("node", "risk", "staged", "positions", "pnl", "orders", "tradebook", "alerts")
"""Fragment ids of the dashboard, each pushed by the event stream when it changes."""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _ts(ts_ns: int | None) -> str:
    return "-" if not ts_ns else _e(format_ns(int(ts_ns))[11:23])


def csrf_field(session: Session) -> str:
    """Return the hidden CSRF input of ``session``'s forms."""
    return f'<input type="hidden" name="csrf" value="{_e(session.csrf)}">'


def action_form(
    session: Session, action: str, label: str, fields: str = "", *, danger: bool = False, confirm: str = ""
) -> str:
    """Return a POST form to ``/action/<action>`` (empty for viewers)."""
    if session.role is not Role.OPERATOR:
        return ""
    cls = ' class="danger"' if danger else ""
    ask = f' data-confirm="{_e(confirm)}"' if confirm else ""
    return (
        f'<form class="inline" method="post" action="/action/{_e(action)}"{ask}>{csrf_field(session)}'
        f'{fields}<button type="submit" id="btn-{_e(action)}"{cls}>{_e(label)}</button></form>'
    )


def page(title: str, body: str, session: Session | None, flash: list[str] | None = None) -> str:
    """Return a full page with the header (user, role, logout)."""
    nav = ""
    if session is not None:
        logout = (
            f'<form class="inline" method="post" action="/logout">{csrf_field(session)}'
            '<button type="submit" id="btn-logout">log out</button></form>'
        )
        nav = (
            '<a href="/">dashboard</a><a href="/recovery">resume checklist</a>'
            '<a href="/audit">audit trail</a>'
            f'<span class="who">{_e(session.user)} ({_e(session.role)}) {logout}</span>'
        )
    notes = "".join(f'<div class="flash" role="status">{_e(m)}</div>' for m in flash or [])
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)} - nautilus-ext console</title><style>{_CSS}</style>"
        '<script src="/static/console.js" defer></script></head>'
        f"<body><header><strong>nautilus-ext</strong>{nav}</header>{notes}{body}</body></html>"
    )


def login_page(nonce: str, message: str = "") -> str:
    """Return the login form (``nonce``: the login CSRF double-submit value)."""
    note = f'<p class="bad" id="login-error">{_e(message)}</p>' if message else ""
    body = (
        "<main><section><h2>Log in</h2>"
        f'{note}<form method="post" action="/login"><input type="hidden" name="nonce" value="{_e(nonce)}">'
        '<p><label>name <input name="user" id="user" autocomplete="username"></label></p>'
        '<p><label>secret <input name="secret" id="secret" type="password" autocomplete="current-password">'
        '</label></p><button type="submit" id="btn-login">log in</button></form></section></main>'
    )
    return page("login", body, None)


# -- dashboard fragments ------------------------------------------------------------------------


def node_fragment(snap: Snapshot, session: Session) -> str:
    """Mode, arm and TTL, SAFE with its reasons, kills, what blocks a resume; arm/disarm/kill."""
    st = snap.status
    if not st:
        return '<h2>Node</h2><p class="muted">waiting for the safety layer\'s first status</p>'
    safe = st.get("safe")
    rows = [["mode", _e(st.get("mode"))]]
    if st.get("armed"):
        left = max(0, (int(st.get("arm_expires_at_ns") or 0) - time.time_ns()) // 1_000_000_000)
        rows.append(["arming", f'<span class="ok" id="armed">ARMED</span> ({left}s left)'])
    else:
        rows.append(["arming", '<span class="bad" id="armed">NOT armed</span>'])
    if safe:
        causes = "".join(
            f"<li>{_e(c['message'])} ({_e(c['code'])}/{_e(c['rule'])})</li>"
            for c in st.get("safe_causes") or []
        )
        rows.append(["SAFE mode", f'<span class="bad" id="safe">SAFE</span><ul>{causes}</ul>'])
    else:
        rows.append(["SAFE mode", '<span class="ok" id="safe">not in SAFE mode</span>'])
    kills = st.get("kills") or {}
    rows.append(
        [
            "killed strategies",
            "<br>".join(f"{_e(s)}: {_e(k['message'])}" for s, k in kills.items()) or "none",
        ]
    )
    if st.get("recovery_problems"):
        rows.append(["before resume", "<br>".join(_e(p) for p in st["recovery_problems"])])
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    ttl = '<input name="ttl_secs" id="arm-ttl" type="number" min="1" value="300" size="5"> s'
    reason = '<input name="reason" id="kill-reason" placeholder="reason">'
    actions = (
        action_form(session, "arm", "arm", ttl)
        + action_form(session, "disarm", "disarm")
        + action_form(
            session, "kill", "KILL ALL (SAFE mode)", reason, danger=True, confirm="Kill everything?"
        )
        + action_form(session, "cancel_all", "cancel all orders", danger=True, confirm="Cancel every order?")
    )
    return f"<h2>Node</h2><table>{table}</table><div>{actions}</div>"


def risk_fragment(snap: Snapshot, session: Session) -> str:
    """The risk matrix's headroom."""
    head = snap.status.get("risk_headroom") or {}
    assets = [
        [_e(a), _e(v["position"]), _e(v["limit"]), _e(v["headroom"])]
        for a, v in (head.get("assets") or {}).items()
    ]
    strategies = [
        [_e(s), _e(v["pnl"]), _e(v["loss_limit"]), _e(v["headroom"]), _e(v["drawdown"])]
        for s, v in (head.get("strategies") or {}).items()
    ]
    overall = [
        [name, _e(v["loss"]), _e(v["limit"]), _e(v["headroom"])]
        for name in ("portfolio", "daily")
        for v in [head.get(name)]
        if v
    ]
    return (
        "<h2>Risk headroom</h2>"
        + _table(["asset", "position", "max position", "headroom"], assets, "no positions")
        + _table(
            ["strategy", "PnL since baseline", "loss limit", "headroom", "drawdown"], strategies, "no PnL yet"
        )
        + _table(["loss", "now", "limit", "headroom"], overall, "")
    )


def staged_fragment(snap: Snapshot, session: Session) -> str:
    """Intents waiting for a human confirmation, each linking to its two-step confirm page."""
    rows = [
        [
            f'<a href="/confirm/{_e(i["intent_hash"])}" class="confirm-link">'
            f"<code>{_e(i['intent_hash'][:16])}</code></a>",
            f'<a href="/audit?id=intent:{_e(i["operation_id"])}">{_e(i["operation_id"])}</a>',
            _e(i["strategy_id"]),
            _e(
                f"{i['side']} {i['amount']} {i['instrument_key']}"
                + (f" @ {i['price']}" if i.get("price") else "")
            ),
        ]
        for i in snap.status.get("staged") or []
    ]
    return "<h2>Staged intents</h2>" + _table(
        ["hash", "operation", "strategy", "order"], rows, "nothing staged"
    )


def positions_fragment(snap: Snapshot, session: Session) -> str:
    """Per venue: the gate's running sum next to the venue's figure, with dirty flags."""
    st = snap.status
    dirty = set(st.get("dirty") or [])
    assets = sorted(set(st.get("positions") or {}) | set(snap.venue_figures))
    rows = []
    for asset in assets:
        venue = snap.venue_figures.get(asset)
        figure = "-" if venue is None else f"{_e(venue.quantity)} ({_ts(venue.ts_ns)})"
        match = (
            ""
            if venue is None
            else ('<span class="ok">match</span>' if venue.matched else '<span class="bad">MISMATCH</span>')
        )
        rows.append(
            [
                _e(asset.split(":", 1)[0]),
                _e(asset),
                _e((st.get("positions") or {}).get(asset, "0")),
                figure,
                match,
                '<span class="bad">DIRTY</span>' if asset in dirty else "clean",
            ]
        )
    hf = [[_e(a), _e(v)] for a, v in sorted(snap.health_factors.items())]
    margins = [[_e(a), _e(v)] for a, v in sorted(snap.margin_ratios.items())]
    return (
        "<h2>Positions</h2>"
        + _table(["venue", "asset", "running sum", "venue figure", "", "flag"], rows, "no positions")
        + (
            ""
            if not margins
            else "<h2>Margin</h2>" + _table(["account", "maint. margin / balance"], margins, "")
        )
        + ("" if not hf else "<h2>Health factors</h2>" + _table(["account", "health factor"], hf, ""))
    )


def pnl_fragment(snap: Snapshot, session: Session) -> str:
    """PnL per strategy, with the per-strategy kill/release and flatten actions."""
    rows = [[_e(p.strategy_id), _e(p.currency), _e(p.realized), _e(p.unrealized)] for p in snap.pnl]
    killed = set(snap.status.get("killed_strategies") or [])
    acts = []
    for sid in snap.strategies:
        strategy = f'<input type="hidden" name="strategy_id" value="{_e(sid)}">'
        if sid in killed:
            incident = (
                f'<input name="incident_ref" placeholder="incident ref" id="release-incident-{_e(sid)}">'
            )
            form = action_form(session, "release", f"release {sid}", strategy + incident)
        else:
            form = action_form(session, "kill", f"kill {sid}", strategy, danger=True, confirm=f"Kill {sid}?")
        form += action_form(
            session,
            "flatten",
            f"flatten {sid}",
            strategy,
            danger=True,
            confirm=f"Close every open position of {sid} with market orders?",
        )
        acts.append(f"<div>{_e(sid)}: {form}</div>")
    named = action_form(
        session,
        "kill",
        "kill strategy",
        '<input name="strategy_id" id="kill-strategy-id" placeholder="strategy id">',
        danger=True,
        confirm="Kill this strategy?",
    )
    return (
        "<h2>PnL per strategy</h2>"
        + _table(["strategy", "ccy", "realized", "unrealized"], rows, "no PnL yet")
        + "".join(acts)
        + f"<div>{named}</div>"
    )


def orders_fragment(snap: Snapshot, session: Session) -> str:
    """Working orders, with cancel-all per venue."""
    rows = [
        [
            _e(o.client_order_id),
            _e(o.strategy_id),
            _e(o.instrument_id),
            _e(o.side),
            _e(o.order_type),
            _e(f"{o.filled}/{o.qty}"),
            _e(o.price),
            _e(o.status),
        ]
        for o in snap.orders
    ]
    per_venue = "".join(
        action_form(
            session,
            "cancel_all",
            f"cancel all at {v}",
            f'<input type="hidden" name="venue" value="{_e(v)}">',
            confirm=f"Cancel every order at {v}?",
        )
        for v in snap.venues
    )
    return (
        "<h2>Open orders</h2>"
        + _table(
            ["order", "strategy", "instrument", "side", "type", "filled", "price", "status"],
            rows,
            "no open orders",
        )
        + f"<div>{per_venue}</div>"
    )


def tradebook_fragment(snap: Snapshot, session: Session) -> str:
    """The live tradebook (newest first); each order links to its audit trail."""
    rows = [
        [
            _ts(f.ts_ns),
            _e(f.strategy_id),
            _e(f.instrument_id),
            _e(f.side),
            _e(f.qty),
            _e(f.price),
            _e(f.client_order_id),
            f'<a href="/audit?id=fill:{_e(f.trade_id)}">{_e(f.trade_id)}</a>',
        ]
        for f in snap.fills
    ]
    return "<h2>Tradebook</h2>" + _table(
        ["time", "strategy", "instrument", "side", "qty", "price", "order", "trade"], rows, "no fills yet"
    )


def alerts_fragment(snap: Snapshot, session: Session) -> str:
    """Alerts, newest first."""
    rows = [
        [
            _ts(a.ts_ns),
            f'<span class="{"bad" if a.level == "CRITICAL" else ""}">{_e(a.level)}</span>',
            _e(a.kind),
            _e(a.text),
        ]
        for a in snap.alerts
    ]
    return "<h2>Alerts</h2>" + _table(["time", "level", "kind", "text"], rows, "no alerts")


FRAGMENTS: Final[dict[str, Callable[[Snapshot, Session], str]]] = {
    "node": node_fragment,
    "risk": risk_fragment,
    "staged": staged_fragment,
    "positions": positions_fragment,
    "pnl": pnl_fragment,
    "orders": orders_fragment,
    "tradebook": tradebook_fragment,
    "alerts": alerts_fragment,
}


def fragments(snap: Snapshot, session: Session) -> dict[str, str]:
    """Return every dashboard fragment by id."""
    return {name: render(snap, session) for name, render in FRAGMENTS.items()}


def dashboard(snap: Snapshot, session: Session, flash: list[str]) -> str:
    """Return the dashboard (the event stream keeps its sections fresh)."""
    parts = fragments(snap, session)
    body = "<main>" + "".join(f'<section id="{n}">{parts[n]}</section>' for n in SECTIONS) + "</main>"
    return page("dashboard", f'<div data-live="1"></div>{body}', session, flash)


# -- two-step confirm, recovery checklist, audit trail --------------------------------------------


def confirm_page(intent: dict[str, Any] | None, intent_hash: str, session: Session, flash: list[str]) -> str:
    """Step two of a confirmation: what the hash covers, then the confirm button."""
    if intent is None:
        body = (
            f'<main><section><h2>Confirm intent</h2><p class="bad">No staged intent has hash '
            f"<code>{_e(intent_hash)}</code> (confirmed, expired or never staged).</p></section></main>"
        )
        return page("confirm", body, session, flash)
    covered = [
        ["intent hash", f'<code id="intent-hash">{_e(intent["intent_hash"])}</code>'],
        ["operation", _e(intent["operation_id"])],
        ["strategy", _e(intent["strategy_id"])],
        ["instrument", _e(intent["instrument_key"])],
        ["side", _e(intent["side"])],
        ["amount", _e(intent["amount"])],
        ["price", _e(intent.get("price") or "market")],
        ["expires", _ts(intent.get("expires_at_ns"))],
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in covered)
    if intent.get("confirmed_by"):
        body = (
            f'<main><section><h2>Confirm intent</h2><table>{table}</table><p class="ok" id="confirmed">'
            f"already confirmed by {_e(intent['confirmed_by'])}</p></section></main>"
        )
        return page("confirm", body, session, flash)
    form = action_form(
        session,
        "confirm",
        "confirm this exact intent",
        f'<input type="hidden" name="intent_hash" value="{_e(intent["intent_hash"])}">',
    )
    body = (
        "<main><section><h2>Confirm intent</h2><p>The hash covers the unified order below; "
        f"confirming releases exactly this order through the safety gate.</p><table>{table}</table>{form}"
        "</section></main>"
    )
    return page("confirm", body, session, flash)


def recovery_page(snap: Snapshot, session: Session, flash: list[str]) -> str:
    """The resume checklist of seed 001 section 16.1, each step with its form and its state."""
    st = snap.status
    safe = bool(st.get("safe"))
    problems = st.get("recovery_problems") or []
    limits_hash = str(st.get("limits_hash") or "")
    limits_ok = not any("limits" in p for p in problems)
    baseline_ok = not any("loss" in p for p in problems)
    data_ok = not any(("data" in p or "position" in p or "feed" in p) for p in problems)

    def mark(done: bool) -> str:
        return '<span class="ok">done</span>' if done else '<span class="bad">to do</span>'

    state = (
        f'<p id="recovery-state" class="{"bad" if safe else "ok"}">'
        + ("node is in SAFE mode" if safe else "node is not in SAFE mode")
        + "</p>"
    )
    steps = [
        f"Review the kill and the alerts (SAFE causes: "
        f"{_e('; '.join(c['message'] for c in st.get('safe_causes') or []) or 'none')})",
        f"{mark(not safe or limits_ok)} Confirm the risk limits in force by their hash "
        f'<code id="limits-hash">{_e(limits_hash)}</code> '
        + action_form(
            session,
            "confirm_limits",
            "confirm limits",
            f'<input type="hidden" name="limits_hash" value="{_e(limits_hash)}">',
        ),
        f"{mark(not safe or baseline_ok)} Reset the loss baselines after review "
        + action_form(session, "reset_risk_baselines", "reset baselines"),
        f"{mark(not safe or data_ok)} Wait for fresh market data and positions reconciled with the venue",
        "Leave SAFE mode with the incident reference "
        + action_form(
            session,
            "resume",
            "resume",
            '<input name="incident_ref" id="incident-ref" placeholder="incident ref">',
        ),
        "Arm again (LIVE orders need a fresh human arm) "
        + action_form(
            session, "arm", "arm", '<input name="ttl_secs" type="number" min="1" value="300" size="5"> s'
        ),
    ]
    remaining = "".join(f"<li>{_e(p)}</li>" for p in problems)
    body = (
        f"<main><section><h2>Resume checklist</h2>{state}<ol>"
        + "".join(f"<li>{s}</li>" for s in steps)
        + "</ol>"
        + (
            f'<h2>Still blocking a resume</h2><ul id="recovery-problems">{remaining}</ul>'
            if remaining
            else ""
        )
        + "</section></main>"
    )
    return page("resume checklist", body, session, flash)


def audit_page(query_id: str, lineage: Lineage | None, session: Session, error: str = "") -> str:
    """The Decision -> Intent -> Order -> Fill trail of an intent, order or fill id."""
    form = (
        '<form method="get" action="/audit"><input name="id" id="audit-id" size="48" '
        'placeholder="intent, order or fill id" '
        f'value="{_e(query_id)}"><button type="submit" id="btn-audit">show</button></form>'
    )
    if error:
        result = f'<p class="bad">{_e(error)}</p>'
    elif not query_id:
        result = ""
    elif lineage is None:
        result = f'<p class="bad">no intent, order or fill {_e(query_id)} in the audit log</p>'
    else:
        result = f'<pre id="lineage">{_e(lineage.render())}</pre>'
    body = f'<main><section style="grid-column:1/-1"><h2>Audit trail</h2>{form}{result}</section></main>'
    return page("audit trail", body, session)


CONSOLE_JS: Final = """
document.addEventListener('submit', (e) => {
  const msg = e.target.dataset.confirm;
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
if (document.querySelector('[data-live]')) {
  const source = new EventSource('/events');
  source.addEventListener('update', (e) => {
    const parts = JSON.parse(e.data);
    for (const [id, html] of Object.entries(parts)) {
      const el = document.getElementById(id);
      if (el && !el.contains(document.activeElement)) { el.innerHTML = html; }
    }
    document.body.dataset.version = parts.__version || '';
  });
}
"""

__all__ = [
    "CONSOLE_JS",
    "FRAGMENTS",
    "SECTIONS",
    "action_form",
    "audit_page",
    "confirm_page",
    "dashboard",
    "fragments",
    "login_page",
    "page",
    "recovery_page",
]
