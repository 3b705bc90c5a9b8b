"""The standard proxy variables, applied to the Slack Web API client the way aiohttp's `trust_env` applies them.

The webhooks (ERP, CRM) use aiohttp sessions with `trust_env=True`: `HTTP_PROXY` for http:// URLs,
`HTTPS_PROXY` for https:// URLs, no proxy for hosts `NO_PROXY` names. slack_sdk reads the variables
itself, differently: the first of HTTPS_PROXY, https_proxy, HTTP_PROXY, http_proxy for every URL, and
it never reads NO_PROXY. The Slack client talks to one base URL, so its proxy is decided once, here,
with the same rules (the standard library's, which aiohttp uses).
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit


def proxy_for(url: str) -> str | None:
    """The proxy the environment gives URL, or None when there is none or NO_PROXY names its host."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    proxy = urllib.request.getproxies().get(parts.scheme)
    return proxy or None
