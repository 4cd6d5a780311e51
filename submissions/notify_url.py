"""Which `notify_url`s the hub sends to: an untrusted URL from a submitter, checked twice.

At intake (`check_url`, then `check_host` with the operator's choice): `http://` or `https://` only, a host, no
user name or password, no fragment, no space or control character, at most `MAX_URL_CHARS`; and, unless the operator
allows private targets, no host that names this machine or a private network by itself (`localhost`, a loopback,
private, link-local or otherwise non-global IP literal). The hub must not become a way to reach what only it can
reach (SSRF): an intranet service, a cloud metadata address, its own API.

At delivery (`check_address`), on every address the host resolves to when the event is sent, since a name checked
at intake may resolve elsewhere later: the deliverer connects to an address it checked, never resolving again.

`--notify-allow-private` (or MOBENCH_NOTIFY_ALLOW_PRIVATE=1) lifts the private-address rule, for a hub whose
submitters' receivers live on its own network, and for the tests' receivers on loopback.

Events are signed with the secret of the API token that submitted (`hub.store.accounts.notify_secret`), so the
intake takes a notify_url only with a token (`subscription_url`): the API's, or `mobench submit --token` on the hub's
own machine. A submission made without one cannot be told anything its receiver could trust, and is refused.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from hub.core.errors import SubmissionError
from hub.store import Store, accounts

MAX_URL_CHARS = 2000
SCHEMES = ("http", "https")
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def check_url(url: str) -> str:
    """`url` itself if the hub may notify it, else a ValueError saying what is wrong (on one line)."""
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"longer than {MAX_URL_CHARS} characters")
    if _UNSAFE.search(url):
        raise ValueError("a URL holds no space or control character (percent-encode them)")
    scheme, _, rest = url.partition("://")
    if not rest or scheme.lower() not in SCHEMES:
        shown = url.partition(":")[0][:20] if ":" in url else url[:20]
        raise ValueError(f"only http:// and https:// URLs are notified, not {shown!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if port == 0:
        raise ValueError("port 0 is not a port a receiver listens on")
    if "@" in parts.netloc:
        raise ValueError("a user name or password in the URL is not accepted (the events are signed instead)")
    if not parts.hostname:
        raise ValueError("the URL names no host")
    if parts.fragment or url.endswith("#"):
        raise ValueError("a fragment (#...) is never sent over HTTP: leave it out")
    return url


@dataclass(frozen=True)
class Subscription:
    """What the intake is told beside the archive: the API token submitting it (whose secret signs its events), a
    notify_url given as the API's form field, and whether the operator allows private targets."""

    token_id: str | None = None
    url: str | None = None
    allow_private: bool = False


UNSIGNED = Subscription()  # submitted without a token: the intake takes no notify_url from it


def subscription_url(store: Store, in_manifest: str | None, given: Subscription) -> str | None:
    """The URL a new submission is to be notified at (None: not notified), from its manifest's `notify_url` or
    the API's field; a `SubmissionError` naming where the URL came from when it cannot be taken."""
    if in_manifest is not None and given.url is not None and in_manifest != given.url:
        raise SubmissionError(
            "notify_url: manifest.yaml names one URL and the request another: give it in one place only"
        )
    url = in_manifest if in_manifest is not None else given.url
    if url is None:
        return None
    where = "manifest.yaml: field 'notify_url'" if in_manifest is not None else "notify_url"
    try:
        check_host(check_url(url), allow_private=given.allow_private)
    except ValueError as exc:
        raise SubmissionError(f"{where}: {exc}") from None
    if given.token_id is None:
        raise SubmissionError(
            f"{where}: notifications are signed with the secret of a submission token of this hub: submit through "
            "its API (`mobench submit --hub URL --token T`), or on the hub's machine with --token"
        )
    if accounts.notify_secret(store, given.token_id) is None:
        raise SubmissionError(
            f"{where}: token {given.token_id} has no notification secret yet (it was made before notifications): "
            f"the hub's maintainers give it one with `mobench tokens notify-secret {given.token_id}`"
        )
    return url


def check_host(url: str, *, allow_private: bool) -> None:
    """Refuse (ValueError) a checked URL whose host, as written, is this machine or a non-global address."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        raise ValueError(f"{host} is this hub's own machine: the hub notifies public addresses only")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: checked again on what it resolves to when an event is sent
    check_address(address, allow_private=False)


def check_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_private: bool) -> None:
    """Refuse (ValueError) an address the hub must not connect to: loopback, private, link-local, reserved,
    multicast or any other non-global one (an IPv4 address inside IPv6 is judged as the IPv4 address)."""
    if allow_private:
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        raise ValueError(f"{address} is a loopback address: the hub notifies public addresses only")
    if not address.is_global or address.is_multicast:
        raise ValueError(f"{address} is a private or reserved address: the hub notifies public addresses only")
