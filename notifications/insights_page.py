"""The insights chart page: `GET /insights/{token}`, opened from the signed link `/deal insights` gives an admin.

The link is a token like the email links (`notifications.links`): `i1.<payload>.<signature>`, HMAC
with a key derived from GREENLIGHT_SECRET for this purpose only, bound to one person, with a random
nonce, and short-lived (LIFETIME, 15 minutes): the page is rendered from the database at each
visit, so an old link never shows a stale or someone else's view. The person must still be an
admin of the policy in force. The charts are drawn by pygal (SVG, server side) and shown as
images, so the page runs no script; each chart has a narrow version for phones, and every figure
is also in a table. The answers carry the email pages' headers (strict CSP with images from
`data:` only, no framing, no referrer, no caching) and refusals are plain pages with their status.
The page is in the admin's language, its times in the policy's zone with the zone named.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pygal
from aiohttp import web
from pygal.style import Style

from domain import i18n
from domain.i18n import _
from domain.insights import NONE, Insights, duration
from domain.policy import Policy

from . import links
from .links import ExpiredLink, LinkError, MalformedLink, TamperedLink
from .templating import render

# pygal puts an import hook for its map plugins (pygal.maps.*) on sys.meta_path, and that hook has no
# find_spec: every later import that the other finders miss then warns (an error under pytest's
# warnings-as-errors). Greenlight draws no maps: the hook goes.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

VERSION = "i1"
LIFETIME = dt.timedelta(minutes=15)
PERIOD = dt.timedelta(days=28)

Gather = Callable[[dt.datetime, dt.datetime | None], Awaitable[Insights]]
Clock = Callable[[], dt.datetime]


def issue(secret: str, person: str, now: dt.datetime) -> str:
    """A fresh token for `person` to open the insights page until now + LIFETIME."""
    payload = {"p": person, "t": int(now.timestamp()), "n": secrets.token_urlsafe(12)}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    signed = f"{VERSION}.{body}"
    return f"{signed}.{_b64(_sign(secret, signed))}"


def read(secret: str, token: str, now: dt.datetime) -> tuple[str, dt.datetime]:
    """The person and the expiry of a valid token; a LinkError (400, 403, 410) otherwise."""
    if not isinstance(token, str) or not token or len(token) > links.MAX_TOKEN_LENGTH or not token.isascii():
        raise MalformedLink(_("the link is empty, too long or has characters a link never has"))
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise MalformedLink(_("the link does not have the shape of a Greenlight insights link: was it cut short?"))
    signed = f"{parts[0]}.{parts[1]}"
    try:
        signature = _unb64(parts[2])
    except ValueError:
        raise MalformedLink(_("the link's signature cannot be read: was it cut short?")) from None
    if not hmac.compare_digest(signature, _sign(secret, signed)):
        raise TamperedLink(_("the link's signature does not match: it was changed or was not made by Greenlight"))
    try:
        data = json.loads(_unb64(parts[1]))
        person, stamp = data["p"], data["t"]
        if not isinstance(person, str) or not person or not isinstance(stamp, int) or isinstance(stamp, bool):
            raise ValueError("claims")
        issued = dt.datetime.fromtimestamp(stamp, dt.UTC)
    except (KeyError, ValueError, TypeError, OverflowError):
        raise MalformedLink(_("the link's content cannot be read")) from None
    if issued > now + links.CLOCK_SKEW:
        raise MalformedLink(_("the link claims to be issued in the future"))
    expires = issued + LIFETIME
    if now >= expires:
        minutes = int(LIFETIME.total_seconds() // 60)
        raise ExpiredLink(
            _(
                "insights links work for {minutes} minutes; this one expired {when}. "
                "Run /deal insights again for a fresh one.",
                minutes=minutes,
                when=i18n.moment(expires, dt.UTC),
            )
        )
    return person, expires


def _sign(secret: str, signed: str) -> bytes:
    return hmac.new(links.purpose_key(secret, "insights-link"), signed.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError("not base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/insights/{token}"


# ---------------------------------------------------------------- the page


def add_routes(
    app: web.Application, *, policy: Callable[[], Policy], gather: Gather, secret: str, clock: Clock
) -> None:
    """Register GET /insights/{token} on APP (before it starts). `policy` gives the policy in force."""

    async def show(request: web.Request) -> web.Response:
        now = clock()
        rules = policy()
        with i18n.speaking(rules.locale):  # whose link it is is not known until it reads
            try:
                person, expires = read(secret, request.match_info["token"], now)
            except LinkError as error:
                return message(error.status, error.title, [_sentence(str(error))])
        with i18n.speaking(rules.person_locale(person)):
            if person not in rules.admins:
                return message(
                    403,
                    _("This page is for admins"),
                    [_("{person} is not an admin of the policy in force.", person=person)],
                )
            report = await gather(now, now - PERIOD)
            return page(report, person, expires, rules.zone)

    app.router.add_get("/insights/{token}", show)


def page(report: Insights, person: str, expires: dt.datetime, zone: dt.tzinfo = dt.UTC) -> web.Response:
    """The page in the current language; times in ZONE (the policy's), named."""
    nonce = secrets.token_urlsafe(16)
    html = render(
        "page/insights.html",
        nonce=nonce,
        title=_("Where deals wait"),
        r=report,
        person=person,
        expires=i18n.moment(expires, zone, now=report.now),
        charts=charts(report),
        d=duration,
        since=i18n.date(report.since.astimezone(zone).date()) if report.since else _("the start"),
        until=i18n.date((report.until or report.now).astimezone(zone).date()),
        weeks=sorted(set(report.cycle_by_week) | set(report.waiting_by_week)),
        empty=NONE,
    )
    return secured(web.Response(status=200, text=html, content_type="text/html"), nonce)


def message(status: int, title: str, paragraphs: list[str]) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    unchanged = _("Nothing was changed.")
    if not any(unchanged.rstrip(".") in p for p in paragraphs):
        paragraphs = [*paragraphs, unchanged]
    html = render(
        "page/message.html", nonce=nonce, title=title, paragraphs=paragraphs, tone="error", eyebrow="", s=None
    )
    return secured(web.Response(status=status, text=html, content_type="text/html"), nonce)


def secured(response: web.Response, nonce: str) -> web.Response:
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src data:; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _sentence(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".") if text else ""


# ---------------------------------------------------------------- charts (pygal)

STYLE = dict(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#111827",
    foreground_strong="#111827",
    foreground_subtle="#6b7280",
    colors=("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2"),
    font_family="-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
)


def _style(narrow: bool) -> Style:
    size = 22 if narrow else 14
    return Style(
        **STYLE,
        label_font_size=size,
        major_label_font_size=size,
        legend_font_size=size + 2,
        title_font_size=size + 6,
        value_font_size=size,
        tooltip_font_size=size,
    )


def _config(narrow: bool) -> dict[str, Any]:
    return {
        "style": _style(narrow),
        "width": 420 if narrow else 860,
        "height": 440 if narrow else 380,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 1 if narrow else 3,
        "js": [],
        "disable_xml_declaration": True,
        "print_values": False,
        "show_y_guides": True,
        "truncate_label": -1,
        "truncate_legend": -1,
        "margin": 16,
    }


def _uri(chart: Any) -> str:
    svg = chart.render()
    if isinstance(svg, str):
        svg = svg.encode()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _both(draw: Callable[[bool], Any]) -> dict[str, str]:
    return {"wide": _uri(draw(False)), "narrow": _uri(draw(True))}


def charts(r: Insights) -> dict[str, dict[str, str]]:
    """Each chart as two data: URIs of SVG, wide and narrow."""
    weeks = sorted(set(r.cycle_by_week) | set(r.waiting_by_week))

    def trend(narrow: bool) -> Any:
        chart = pygal.Line(
            **_config(narrow), x_label_rotation=45 if narrow and len(weeks) > 5 else 0, dots_size=4, include_x_axis=True
        )
        chart.title = _("Hours, by week")
        chart.x_labels = [w[5:] for w in weeks]
        chart.add(_("Cycle median"), [_hours(r.cycle_by_week.get(w, NONE).median) for w in weeks])
        chart.add(_("Cycle p90"), [_hours(r.cycle_by_week.get(w, NONE).p90) for w in weeks])
        chart.add(_("Waiting median"), [_hours(r.waiting_by_week.get(w, NONE).median) for w in weeks])
        return chart

    def ages(narrow: bool) -> Any:
        chart = pygal.Bar(**_config(narrow), x_label_rotation=30 if narrow else 0)
        chart.title = _(
            "Open requests by age ({stuck} stuck beyond {after})", stuck=r.stuck_count, after=duration(r.stuck_after)
        )
        chart.x_labels = list(r.open_by_age)
        chart.add(_("Open requests"), list(r.open_by_age.values()))
        return chart

    top = r.bottlenecks[:8]

    def queues(narrow: bool) -> Any:
        chart = pygal.HorizontalBar(**_config(narrow))
        chart.title = _("Longest queues (open requests)")
        chart.x_labels = [b.person for b in top]
        chart.add(_("Open"), [b.open for b in top])
        chart.add(_("Stuck"), [b.stuck for b in top])
        chart.add(_("Held for someone away"), [b.queue_with_delegations - b.open for b in top])
        return chart

    def rejections(narrow: bool) -> Any:
        chart = pygal.HorizontalBar(**_config(narrow), range=(0, 100))
        chart.title = _("Rejection rate by rule (%)")
        chart.x_labels = [s.rule for s in r.rules]
        chart.add(
            _("Rejected"), [round(s.rejection_rate * 100) if s.rejection_rate is not None else None for s in r.rules]
        )
        return chart

    def channels(narrow: bool) -> Any:
        chart = pygal.Pie(**_config(narrow), inner_radius=0.45)
        chart.title = _("How decisions were made")
        for key, label in (("slack", "Slack"), ("email", _("Email")), ("other", _("Other"))):
            if r.decisions_via.get(key):
                chart.add(label, r.decisions_via[key])
        return chart

    return {
        "trend": _both(trend),
        "ages": _both(ages),
        "queues": _both(queues),
        "rejections": _both(rejections),
        "channels": _both(channels),
    }
