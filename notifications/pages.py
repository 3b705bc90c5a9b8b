"""The page behind an email's Approve / Reject link (slack-v1 §5): `GET` shows, only `POST` decides.

    GET  /a/{token}   the request (customer, quote, amount, discount, reasons with their values,
                      what others decided) and a form to confirm; never changes anything, so
                      link scanners and previews are harmless
    POST /a/{token}   decides with `Approvals.decide(..., key="link:<nonce>")`: a token decides
                      once; a second POST is a no-op that says the link was already used

Every refusal is a plain page that changes nothing, with its status:

    400  malformed link, a form without a verdict, a rejection without a reason
    403  tampered link, a failed cross-site check, the person may not decide (no longer an
         assignee: delegation ended, reassigned, replaced)
    404  no such quote, submission or approval
    409  link already used, already decided (by this person elsewhere, or by someone else)
    410  expired link; the request was withdrawn (revoked by a rejection, recalled, quote changed)

Each page is in the language of the link's holder (`policy.person_locale`); a link that cannot be
read is answered in the policy's default language.

Cross-site posting: the form carries a CSRF token (HMAC of the link's nonce with a key derived
from GREENLIGHT_SECRET), the GET sets the same value in a `SameSite=Strict`, `HttpOnly` cookie
scoped to the link's path, and the POST needs both to match; an `Origin` other than the public
URL's (or `null`) and `Sec-Fetch-Site: cross-site` are refused too. Every answer carries a strict
Content-Security-Policy (no scripts; the inline stylesheet by nonce), `X-Frame-Options: DENY`,
`Referrer-Policy: no-referrer` (the token never leaks through a Referer) and `Cache-Control: no-store`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from domain import approvals as lifecycle
from domain import i18n
from domain.approvals import Approval, Context, Submission
from domain.errors import GreenlightError, NotAllowed, NotFound, StaleRequest
from domain.i18n import _
from domain.policy import Policy
from domain.service import Approvals

from . import links
from .links import Claims, LinkError
from .summary import Summary, at, name_of, still_open, summarize, voted
from .templating import render

log = logging.getLogger("greenlight.pages")

Clock = Callable[[], dt.datetime]

CSRF_FIELD = "csrf"
CSRF_COOKIE = "greenlight_csrf"
MAX_COMMENT = 2000


class Refusal(Exception):
    """A page that says why nothing was done, with its HTTP status."""

    def __init__(
        self, status: int, title: str, *paragraphs: str, summary: Summary | None = None, eyebrow: str = ""
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.paragraphs = paragraphs
        self.summary = summary
        self.eyebrow = eyebrow


@dataclass(frozen=True)
class Open:
    """A request the token's holder may decide now."""

    claims: Claims
    sub: Submission
    approval: Approval
    ctx: Context
    summary: Summary


def add_routes(app: web.Application, *, service: Approvals, secret: str, clock: Clock, public_url: str) -> None:
    """Register GET and POST /a/{token} on APP (before it starts)."""
    page = LinkPage(service, secret, clock, public_url)
    app.router.add_get("/a/{token}", page.show)
    app.router.add_post("/a/{token}", page.decide)


def csrf_token(secret: str, claims: Claims) -> str:
    """The CSRF value of the page of one link: bound to the link's nonce."""
    key = links.purpose_key(secret, "link-csrf")
    digest = hmac.new(key, claims.nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redact(path: str) -> str:
    """A request path fit for logs: the token of /a/<token> is a credential."""
    if path.startswith("/insights/"):
        return "/insights/<token>"
    return "/a/<token>" if path.startswith("/a/") else path


class AccessLogger(AbstractAccessLogger):
    """Access log lines without link tokens: `web.AppRunner(app, access_log_class=AccessLogger)`."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.1f ms", request.method, redact(request.path), response.status, time * 1000)


class LinkPage:
    @property
    def policy(self) -> Policy:
        return self.service.policy  # the policy in force now (it can change while serving)

    def __init__(self, service: Approvals, secret: str, clock: Clock, public_url: str) -> None:
        self.service = service
        self.secret = secret
        self.clock = clock
        url = urlsplit(public_url.rstrip("/"))
        self.origin = f"{url.scheme}://{url.netloc}".lower()
        self.prefix = url.path.rstrip("/")
        self.secure = url.scheme == "https"

    # ---- the two routes --------------------------------------------------------------------

    def _locale(self, token: str, now: dt.datetime) -> str:
        """The language of the link's holder; the policy's default when the link cannot be read."""
        try:
            return self.policy.person_locale(links.read(self.secret, token, now).person)
        except LinkError:
            return self.policy.locale

    async def show(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        now = self.clock()
        with i18n.speaking(self._locale(token, now)):
            return await self._show(token, now)

    async def _show(self, token: str, now: dt.datetime) -> web.Response:
        try:
            found = await self._open(self._claims(token, now), now)
        except Refusal as refusal:
            return self._refusal(refusal)
        csrf = csrf_token(self.secret, found.claims)
        response = self._page(200, "page/request.html", found, csrf=csrf)
        self._set_cookie(response, token, csrf, found.claims, now)
        return response

    async def decide(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        now = self.clock()
        with i18n.speaking(self._locale(token, now)):
            return await self._confirm(request, token, now)

    async def _confirm(self, request: web.Request, token: str, now: dt.datetime) -> web.Response:
        try:
            claims = self._claims(token, now)
            form = await request.post()
            self._check_origin(request, claims, str(form.get(CSRF_FIELD, "")))
            found = await self._open(claims, now)
            verdict = str(form.get("verdict", ""))
            comment = str(form.get("comment", "")).strip()
            if verdict not in links.VERDICTS:
                raise Refusal(400, _("Approve or reject?"), _("The form did not say whether to approve or reject."))
            if len(comment) > MAX_COMMENT:
                return self._retry(
                    found,
                    verdict,
                    comment,
                    _("Keep the text under {limit} characters.", limit=MAX_COMMENT),
                )
            if verdict == "reject" and not comment:
                return self._retry(
                    found, verdict, comment, _("A rejection needs a reason: say what would make it acceptable.")
                )
            return await self._decide(found, verdict, comment or None, now)
        except Refusal as refusal:
            return self._refusal(refusal)

    # ---- deciding --------------------------------------------------------------------------

    async def _decide(self, found: Open, verdict: str, comment: str | None, now: dt.datetime) -> web.Response:
        claims = found.claims
        try:
            events = await self.service.decide(
                claims.quote_id,
                claims.rule,
                claims.person,
                verdict,
                now,
                comment,
                key=claims.key,
                number=claims.number,
                via="email",
            )
        except (StaleRequest, NotAllowed, NotFound) as error:
            # Say precisely what moved on, from the state now; fall back on the service's sentence.
            try:
                await self._open(claims, now)
            except Refusal as refusal:
                return self._refusal(refusal)
            status = 403 if isinstance(error, NotAllowed) else 404 if isinstance(error, NotFound) else 409
            return self._refusal(Refusal(status, _("Nothing was decided"), _sentence(str(error))))
        except GreenlightError as error:
            return self._refusal(Refusal(400, _("Nothing was decided"), _sentence(str(error))))
        if not events:
            return self._refusal(await self._used(claims, now))
        log.info("link decision: %s %s on %s", claims.person, verdict, claims.approval_ref)
        return self._done(claims, verdict, await self._submission(claims))

    def _done(self, claims: Claims, verdict: str, sub: Submission | None) -> web.Response:
        if verdict == "approve":
            done = _("You approved {rule} of {quote}. Thank you.", rule=claims.rule, quote=claims.quote_id)
        else:
            done = _("You rejected {rule} of {quote}. Thank you.", rule=claims.rule, quote=claims.quote_id)
        paragraphs = [done]
        approval = sub.find(claims.rule) if sub is not None else None
        if sub is not None and sub.status == "approved":
            paragraphs.append(
                _(
                    "Every approval is in: {quote} version {version} is approved.",
                    quote=sub.quote_id,
                    version=sub.quote_version,
                )
            )
        elif sub is not None and sub.status == "rejected":
            paragraphs.append(_("{quote} is rejected; the rep is told, with your reason.", quote=sub.quote_id))
        elif sub is not None and (waiting := still_open(self.policy, sub)):
            paragraphs.append(_("{quote} still waits on: {waiting}.", quote=sub.quote_id, waiting="; ".join(waiting)))
        summary = summarize(self.policy, sub, approval, claims.person) if sub and approval else None
        title = _("Approved") if verdict == "approve" else _("Rejected")
        return self._message(200, title, paragraphs, tone="ok", eyebrow=claims.approval_ref, summary=summary)

    # ---- what the token may do now -----------------------------------------------------------

    def _claims(self, token: str, now: dt.datetime) -> Claims:
        try:
            return links.read(self.secret, token, now)
        except LinkError as error:
            advice = _("Use the buttons in the latest email about this request, or decide in Slack.")
            raise Refusal(error.status, error.title, _sentence(str(error)), advice) from None

    async def _open(self, claims: Claims, now: dt.datetime) -> Open:
        """The request behind a link if its holder may decide it now; else the Refusal that says why."""
        policy = self.policy
        async with self.service.store.transaction() as tx:
            used = await tx.seen(claims.key)
            subs = await tx.submissions(claims.quote_id)
            directory = await tx.directory(now)
        if claims.number > len(subs):
            raise Refusal(404, _("No such request"), _("Greenlight has no request {ref}.", ref=claims.approval_ref))
        sub = subs[claims.number - 1]
        approval = sub.find(claims.rule)
        if approval is None:
            raise Refusal(404, _("No such request"), _("{ref} has no approval {rule}.", ref=sub.ref, rule=claims.rule))
        ctx = self.service.context(directory, now)
        summary = summarize(policy, sub, approval, claims.person, ctx)
        if links.submission_key(sub.number, sub.quote_version, sub.content_hash) != claims.submission:
            raise Refusal(
                410,
                _("This request was replaced"),
                _("{ref} is not the submission this link was made for.", ref=sub.ref),
                summary=summary,
            )
        if used is not None:
            raise await self._used(claims, now, sub, approval, summary)
        mine = voted(approval, claims.person)
        if mine is not None:
            raise Refusal(
                409,
                _("You already decided this"),
                _("{decided} Nothing was changed.", decided=self._yours(mine, approval.rule, sub.quote_id)),
                summary=summary,
            )
        if approval.status == "revoked" or sub.status == "recalled":
            raise Refusal(
                410, _("This request was withdrawn"), self._withdrawn(sub), _("Nothing was changed."), summary=summary
            )
        if approval.status != "requested" or sub.status != "pending":
            raise Refusal(
                409, _("Already decided"), self._decided(sub, approval), _("Nothing was changed."), summary=summary
            )
        if claims.person == sub.owner or not (
            lifecycle.can_act_for(ctx, sub, approval, claims.person) or claims.person in approval.escalated_to
        ):
            raise Refusal(
                403,
                _("You cannot decide this request now"),
                _(
                    "{who} is no longer an approver of {rule} on {quote}: the request was reassigned, "
                    "the approver replaced, or the delegation that made you one has ended.",
                    who=name_of(policy, claims.person),
                    rule=approval.rule,
                    quote=sub.quote_id,
                ),
                _("Nothing was changed."),
                summary=summary,
            )
        return Open(claims, sub, approval, ctx, summary)

    async def _used(
        self,
        claims: Claims,
        now: dt.datetime,
        sub: Submission | None = None,
        approval: Approval | None = None,
        summary: Summary | None = None,
    ) -> Refusal:
        if approval is None:
            latest = await self._submission(claims)
            sub = latest
            approval = latest.find(claims.rule) if latest is not None else None
            if sub is not None and approval is not None:
                summary = summarize(self.policy, sub, approval, claims.person)
        mine = voted(approval, claims.person) if approval is not None else None
        paragraphs = [_("This link was already used: each link works once. Nothing was changed this time.")]
        if mine is not None:
            paragraphs.append(self._yours(mine, claims.rule, claims.quote_id))
        return Refusal(409, _("Link already used"), *paragraphs, summary=summary)

    def _yours(self, seat: Any, rule: str, quote: str) -> str:
        """The reader's own earlier vote: "You approved manager-discount of Q-1042 (Dec 1, 2026, …)."."""
        when = at(self.policy, seat.voted_by, seat.voted_at)
        if seat.vote == "reject":
            return _("You rejected {rule} of {quote} ({when}).", rule=rule, quote=quote, when=when)
        return _("You approved {rule} of {quote} ({when}).", rule=rule, quote=quote, when=when)

    async def _submission(self, claims: Claims) -> Submission | None:
        async with self.service.store.transaction() as tx:
            subs = await tx.submissions(claims.quote_id)
        return subs[claims.number - 1] if claims.number <= len(subs) else None

    def _withdrawn(self, sub: Submission) -> str:
        if sub.status == "rejected":
            rejected = next((a for a in sub.approvals if a.status == "rejected"), None)
            who = name_of(self.policy, rejected.acted_by) if rejected is not None else _("an approver")
            if rejected is not None:
                by = _("{quote} was rejected by {who} on {rule}", quote=sub.quote_id, who=who, rule=rejected.rule)
            else:
                by = _("{quote} was rejected by {who}", quote=sub.quote_id, who=who)
            if sub.comment:
                by = _("{text}: “{comment}”", text=by, comment=sub.comment)
            return _("{text}, so this approval is no longer needed.", text=by)
        if sub.status == "recalled":
            why = sub.comment or _("it was recalled")
            return _(
                "{quote} version {version} was withdrawn from approval: {why}.",
                quote=sub.quote_id,
                version=sub.quote_version,
                why=why,
            )
        return _("This approval of {quote} is no longer needed.", quote=sub.quote_id)

    def _decided(self, sub: Submission, approval: Approval) -> str:
        if approval.status == "waiting":
            return _(
                "{rule} of {quote} is not open yet: it waits for earlier steps.", rule=approval.rule, quote=sub.quote_id
            )
        if approval.status in ("approved", "auto", "carried", "rejected"):
            rejected = approval.status == "rejected"
            if approval.acted_by:
                who = name_of(self.policy, approval.acted_by)
                if rejected:
                    return _(
                        "{rule} of {quote} was already rejected by {who}.",
                        rule=approval.rule,
                        quote=sub.quote_id,
                        who=who,
                    )
                return _(
                    "{rule} of {quote} was already approved by {who}.", rule=approval.rule, quote=sub.quote_id, who=who
                )
            if rejected:
                return _("{rule} of {quote} was already rejected.", rule=approval.rule, quote=sub.quote_id)
            return _("{rule} of {quote} was already approved.", rule=approval.rule, quote=sub.quote_id)
        return _("{quote} is {status}: there is nothing left to decide.", quote=sub.quote_id, status=sub.status)

    # ---- cross-site checks -----------------------------------------------------------------

    def _check_origin(self, request: web.Request, claims: Claims, field: str) -> None:
        expected = csrf_token(self.secret, claims)
        again = _("Open the link from the email again and confirm on that page.")
        refused = _("This form cannot be accepted")
        if not field or not hmac.compare_digest(field.encode(), expected.encode()):
            raise Refusal(403, refused, _("It did not come from Greenlight's page."), again)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), expected.encode()):
            raise Refusal(
                403,
                refused,
                _("Your browser did not send back the page's cookie (cookies must be allowed for this site)."),
                again,
            )
        origin = request.headers.get("Origin")
        if origin is not None and origin != "null" and origin.lower() != self.origin:
            raise Refusal(403, refused, _("It was sent from another site."), again)
        if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
            raise Refusal(403, refused, _("It was sent from another site."), again)

    def _set_cookie(self, response: web.Response, token: str, csrf: str, claims: Claims, now: dt.datetime) -> None:
        remaining = int((claims.expires_at - now).total_seconds())
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            path=f"{self.prefix}/a/{token}",
            max_age=max(remaining, 60),
            httponly=True,
            secure=self.secure,
            samesite="Strict",
        )

    # ---- rendering -------------------------------------------------------------------------

    def _page(self, status: int, template: str, found: Open, **extra: object) -> web.Response:
        nonce = secrets.token_urlsafe(16)
        html = render(
            template,
            nonce=nonce,
            title=f"{found.summary.quote_id}: {found.summary.rule}",
            s=found.summary,
            hint=found.claims.verdict_hint,
            expires=at(self.policy, found.claims.person, found.claims.expires_at),
            max_comment=MAX_COMMENT,
            error=extra.pop("error", None),
            comment=extra.pop("comment", ""),
            open_other=extra.pop("open_other", False),
            **extra,
        )
        return _secured(web.Response(status=status, text=html, content_type="text/html"), nonce)

    def _retry(self, found: Open, verdict: str, comment: str, error: str) -> web.Response:
        """The form again (400) with what was typed, saying what is missing; nothing decided."""
        csrf = csrf_token(self.secret, found.claims)
        return self._page(
            400,
            "page/request.html",
            found,
            csrf=csrf,
            error=error,
            comment=comment if verdict == "reject" else "",
            open_other=verdict == "reject",
        )

    def _refusal(self, refusal: Refusal) -> web.Response:
        paragraphs = list(refusal.paragraphs)
        unchanged = _("Nothing was changed.")
        if not any(unchanged.rstrip(".") in paragraph for paragraph in paragraphs):
            paragraphs.append(unchanged)
        return self._message(
            refusal.status,
            refusal.title,
            paragraphs,
            tone="error" if refusal.status in (400, 403) else "",
            eyebrow=refusal.eyebrow,
            summary=refusal.summary,
        )

    def _message(
        self,
        status: int,
        title: str,
        paragraphs: list[str],
        *,
        tone: str = "",
        eyebrow: str = "",
        summary: Summary | None = None,
    ) -> web.Response:
        nonce = secrets.token_urlsafe(16)
        html = render(
            "page/message.html", nonce=nonce, title=title, paragraphs=paragraphs, tone=tone, eyebrow=eyebrow, s=summary
        )
        return _secured(web.Response(status=status, text=html, content_type="text/html"), nonce)


def _secured(response: web.Response, nonce: str) -> web.Response:
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
