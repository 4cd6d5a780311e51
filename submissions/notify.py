"""Delivering notifications: the outbox's events POSTed to their submitters' URLs, signed, retried, in the background.

Every state change of a submission that named a `notify_url` left a row in the outbox in its own transaction
(`hub.store.notifications`); a `Deliverer` sends them. `mobench worker` runs one in a background thread beside its
scoring, so a slow or dead receiver never delays a submission: the thread only ever holds the store for its short
claim and record writes, and waits for the network outside any transaction. `mobench notify` runs one pass of it
(an operator's drain, e.g. from cron while no worker runs). Several deliverers may run at once: each claims one
event at a time under a lease.

An event is the JSON body stored with it, POSTed with

    Content-Type: application/json
    X-Mobench-Event: <the event's id, also in the body: a receiver drops a repeat with it>
    X-Mobench-Timestamp: <Unix seconds when this attempt was signed>
    X-Mobench-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed with the token's notify secret>

so a receiver checks the signature on the raw bytes and refuses an old timestamp (a replayed request). An answer
2xx delivers it; anything else (another status, a refused or reset connection, no answer within the timeout) is
tried again after `backoff_s`, then twice that, and so on up to `backoff_max_s`, until `max_attempts` attempts;
then it has `gave-up`, with the last error recorded. Redirects are not followed. A host that resolves to an address
the operator does not allow (`submissions.notify_url`) gives up at once. Delivery is at least once and, per
submission, in order: an event waits until every earlier event of its submission was delivered or given up.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from urllib.parse import urlsplit

from hub.core.errors import MobenchError, clip
from hub.core.version import mobench_version
from hub.store import Store
from hub.store.connection import utc_now
from hub.store.notifications import DELIVERED, GAVE_UP, PENDING, Due
from submissions.notify_url import check_address

LOG = logging.getLogger(__name__)
ERROR_CHARS = 500


@dataclass(frozen=True)
class DeliveryPolicy:
    """How a deliverer sends: per-request timeout, retries and backoff, the per-token cap, private targets."""

    timeout_s: float = 5.0
    max_attempts: int = 10
    backoff_s: float = 10.0
    backoff_max_s: float = 3600.0
    per_token_daily: int = 200
    allow_private: bool = False
    poll_s: float = 2.0

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt: `backoff_s`, doubling, at most `backoff_max_s`."""
        return float(min(self.backoff_s * 2 ** (attempts - 1), self.backoff_max_s))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Mobench-Signature of `body` sent at `timestamp` (what a receiver recomputes)."""
    digest = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class Undeliverable(Exception):
    """This URL is never to be sent to (the operator's address rule): give up at once, do not retry."""


def post(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float, allow_private: bool) -> int:
    """POST `body` to `url` on an address checked against the operator's rule and return the answer's status.

    The host is resolved once, every address it gives is checked, and the connection goes to the first of them,
    so a name cannot be checked on one address and then reach another (DNS rebinding); TLS still verifies the
    certificate against the host's name. The exchange gets `timeout_s` in all, not per read: a receiver that
    trickles its answer a byte at a time is cut off like one that never answers (TimeoutError). Only the status
    line and headers of the answer are read. Raises `Undeliverable` for a refused address, OSError (timeouts
    included) or http.client.HTTPException for a network failure. (Resolving the name has no timeout of its own:
    it is the system resolver's.)"""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in found]
    for address in addresses:
        try:
            check_address(ipaddress.ip_address(address.partition("%")[0]), allow_private=allow_private)
        except ValueError as exc:
            raise Undeliverable(f"{host} resolves to {exc}") from None
    connection = _Pinned(host, port, addresses[0], timeout_s, ssl.create_default_context() if https else None)
    cut = threading.Event()

    def cut_off() -> None:  # shutting the socket down ends a read blocked in another thread
        cut.set()
        if connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout_s, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        return int(connection.getresponse().status)
    except (OSError, http.client.HTTPException):
        if cut.is_set():
            raise TimeoutError from None
        raise
    finally:
        watchdog.cancel()
        connection.close()


class _Pinned(http.client.HTTPSConnection):
    """An HTTP(S) connection to `host` made on the already checked `address` (plain HTTP when `tls` is None)."""

    def __init__(self, host: str, port: int, address: str, timeout_s: float, tls: ssl.SSLContext | None) -> None:
        super().__init__(host, port, timeout=timeout_s, context=tls)
        self._address, self._tls = address, tls

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host) if self._tls is not None else sock


class Deliverer:
    """Sends the outbox's due events (`deliver_due`), in a background thread while used as a context manager."""

    def __init__(self, store: Store, policy: DeliveryPolicy | None = None) -> None:
        self.store = store
        self.policy = policy or DeliveryPolicy()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-deliverer", daemon=True)

    def deliver_due(self, *, until: float | None = None) -> int:
        """Send every event due now, one at a time, stopping early when the thread is asked to stop or at the
        monotonic time `until`; returns how many attempts were made."""
        attempts = 0
        # a claim holds an event while one attempt can last (resolution, connection, answer), with room to record it
        lease_s = 3 * self.policy.timeout_s + 30
        while until is None or time.monotonic() < until:
            if until is None and self._stop.is_set():
                break
            due = self.store.notifications.claim_next(lease_s=lease_s, per_token_daily=self.policy.per_token_daily)
            if due is None:
                break
            self._attempt(due)
            attempts += 1
        return attempts

    def _attempt(self, due: Due) -> None:
        body = due.body.encode("utf-8")
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"mobench/{mobench_version()} notifications",
            "X-Mobench-Event": due.id,
            "X-Mobench-Timestamp": str(timestamp),
            "X-Mobench-Signature": signature(due.secret, timestamp, body),
        }
        try:
            status = post(
                due.url, body, headers, timeout_s=self.policy.timeout_s, allow_private=self.policy.allow_private
            )
        except Undeliverable as exc:
            self.store.notifications.record(due.id, GAVE_UP, clip(f"refused: {exc}", ERROR_CHARS))
            return
        except TimeoutError:
            error = f"no answer within {self.policy.timeout_s:g} s"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            if 200 <= status < 300:
                self.store.notifications.record(due.id, DELIVERED)
                return
            error = f"answered {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        error = clip(f"attempt {due.attempts}: {error}", ERROR_CHARS)
        if due.attempts >= self.policy.max_attempts:
            self.store.notifications.record(due.id, GAVE_UP, error)
        else:
            retry_at = utc_now() + timedelta(seconds=self.policy.backoff(due.attempts))
            self.store.notifications.record(due.id, PENDING, error, retry_at=retry_at)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._pass()
            self._stop.wait(self.policy.poll_s)
        # stopping (e.g. `mobench worker --once` is done): one last pass that starts no attempt after one timeout,
        # so the last state changes go out now if their receivers answer; what is left waits for the next deliverer
        self._pass(until=time.monotonic() + self.policy.timeout_s)

    def _pass(self, *, until: float | None = None) -> None:
        try:
            self.deliver_due(until=until)
        except MobenchError as exc:  # the store stayed busy past its lock timeout: try at the next poll
            LOG.warning("notifications: %s", exc)
        except Exception:  # a bug must not end the thread silently while the worker goes on scoring
            LOG.exception("notifications: delivery pass failed")

    def __enter__(self) -> Deliverer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
