"""Notifications on the command line: the delivery options `mobench worker` and `mobench notify` share, the operator's
private-address switch (also taken by `mobench submit` and `mobench server`), and `mobench notify`.

`mobench worker` delivers in a background thread while it scores (`submissions.notify.Deliverer`); `mobench notify`
sends what is due once and stops, for a hub that wants delivery apart from its workers or a drain after an outage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import DbOption, app, console, open_store

if TYPE_CHECKING:
    from submissions.notify import DeliveryPolicy

NotifyAllowPrivate = Annotated[
    bool,
    typer.Option(
        "--notify-allow-private",
        envvar="MOBENCH_NOTIFY_ALLOW_PRIVATE",
        help="Let a notify_url name a loopback or private address (refused by default: the hub must not reach "
        "what only it can reach). Give it to the server, the workers and `mobench notify` alike.",
    ),
]
NotifyTimeout = Annotated[
    float, typer.Option("--notify-timeout", help="Seconds a receiver has to answer one notification.", min=0.1)
]
NotifyAttempts = Annotated[
    int, typer.Option("--notify-attempts", help="Attempts per notification before it is given up.", min=1)
]
NotifyBackoff = Annotated[
    float,
    typer.Option("--notify-backoff", help="Seconds before the first retry; each retry waits twice the last.", min=0),
]
NotifyPerDay = Annotated[
    int,
    typer.Option("--notify-per-day", help="Notifications sent per token in 24 h; events beyond are dropped.", min=1),
]


def delivery_policy(timeout: float, attempts: int, backoff: float, per_day: int, allow_private: bool) -> DeliveryPolicy:
    """The options as one policy (`submissions.notify.DeliveryPolicy`; the outbox is looked at every `poll_s`)."""
    from submissions.notify import DeliveryPolicy

    return DeliveryPolicy(
        timeout_s=timeout,
        max_attempts=attempts,
        backoff_s=backoff,
        per_token_daily=per_day,
        allow_private=allow_private,
    )


@app.command("notify")
def notify_cmd(
    db: DbOption = None,
    allow_private: NotifyAllowPrivate = False,
    timeout: NotifyTimeout = 5.0,
    attempts: NotifyAttempts = 10,
    backoff: NotifyBackoff = 10.0,
    per_day: NotifyPerDay = 200,
) -> None:
    """Send the notifications that are due now, once (what `mobench worker` does in the background), and count
    them by status."""
    from submissions.notify import Deliverer

    store = open_store(db)
    store.init()
    sent = Deliverer(store, delivery_policy(timeout, attempts, backoff, per_day, allow_private)).deliver_due()
    counts = ", ".join(f"{n} {status}" for status, n in store.notifications.counts().items())
    console.print(f"{sent} attempt(s) made; notifications: {counts}")
