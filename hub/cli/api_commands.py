"""Commands of the HTTP submission API: run the server, manage its tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import DbOption, app, console, make_table, open_store
from hub.cli.notify_commands import NotifyAllowPrivate
from hub.core.errors import MissingExtraError

tokens_app = typer.Typer(help="Tokens of the HTTP submission API (stored hashed; shown once).", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def tokens_create_cmd(
    name: Annotated[str, typer.Argument(help="Who the token is for (a lab, a person).")], db: DbOption = None
) -> None:
    """Create a submission token; the secret is printed once and only its sha256 is stored. Its notification
    signing secret is printed with it, for the same holder."""
    from hub.store import accounts

    store = open_store(db)
    token, secret = accounts.create_token(store, name)
    console.print(f"token {token.id} for {name}:\n{secret}\n(store it now: the hub keeps only its hash)")
    console.print(
        f"notification signing secret (verifies X-Mobench-Signature):\n{accounts.notify_secret(store, token.id)}"
    )


@tokens_app.command("notify-secret")
def tokens_notify_secret_cmd(
    token_id: Annotated[str, typer.Argument(help="Token id (mobench tokens list).")],
    rotate: Annotated[bool, typer.Option("--rotate", help="Replace it with a new one (e.g. it leaked).")] = False,
    db: DbOption = None,
) -> None:
    """Print a token's notification signing secret, for its holder; a token made before notifications, or --rotate,
    gets a new one (events are signed with it from then on)."""
    from hub.store import accounts

    store = open_store(db)
    store.init()
    secret = None if rotate else accounts.notify_secret(store, token_id)
    if secret is None:
        secret = accounts.rotate_notify_secret(store, token_id)
    console.print(f"notification signing secret of {token_id}:\n{secret}")


@tokens_app.command("list")
def tokens_list_cmd(db: DbOption = None) -> None:
    """List the tokens (never their secrets)."""
    from hub.store import accounts

    store = open_store(db)
    store.init()
    rows = accounts.list_tokens(store)
    console.print(make_table("API tokens", rows, ["id", "name", "created_at", "revoked_at", "extra_daily"]))


@tokens_app.command("revoke")
def tokens_revoke_cmd(
    token_id: Annotated[str, typer.Argument(help="Token id (mobench tokens list).")], db: DbOption = None
) -> None:
    """Revoke a token: its secret is refused from now on."""
    from hub.store import accounts

    accounts.revoke_token(open_store(db), token_id)
    console.print(f"revoked {token_id}")


@tokens_app.command("grant")
def tokens_grant_cmd(
    token_id: Annotated[str, typer.Argument(help="Token id (mobench tokens list).")],
    extra: Annotated[int, typer.Option(help="Extra submissions per benchmark and day, on top of the quota.")],
    db: DbOption = None,
) -> None:
    """Grant a token extra daily submissions (maintainers)."""
    from hub.store import accounts

    accounts.grant_extra(open_store(db), token_id, extra)
    console.print(f"{token_id} may submit {extra} more per benchmark and day")


@app.command("server")
def server_cmd(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    max_upload_mb: Annotated[int, typer.Option(help="Largest archive accepted, in MiB.", min=1)] = 512,
    per_day: Annotated[
        int, typer.Option(help="Submissions per token, benchmark and day (platform failures never count).", min=1)
    ] = 10,
    valid_per_day: Annotated[int, typer.Option(help="Of those, how many may be valid (not rejected).", min=1)] = 5,
    per_minute: Annotated[int, typer.Option(help="Submissions or uploads started per token and minute.", min=1)] = 60,
    chunks_per_minute: Annotated[int, typer.Option(help="Upload chunks per token and minute.", min=1)] = 600,
    chunk_mb: Annotated[int, typer.Option(help="Largest upload chunk, in MiB.", min=1)] = 8,
    body_timeout: Annotated[
        float, typer.Option(help="Seconds a request body may pause before it is refused (408).", min=0.1)
    ] = 15.0,
    upload_ttl_hours: Annotated[float, typer.Option(help="Hours after which an incomplete upload expires.")] = 24.0,
    notify_allow_private: NotifyAllowPrivate = False,
) -> None:
    """Start the HTTP submission API (OpenAPI at /docs); run `mobench worker` and `mobench serve` beside it."""
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("serve", "uvicorn") from None
    from submissions.api_guard import BodyTiming
    from submissions.server import ServerLimits, create_app

    limits = ServerLimits(
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        chunk_bytes=chunk_mb * 1024 * 1024,
        requests_per_minute=per_minute,
        chunks_per_minute=chunks_per_minute,
        total_per_day=per_day,
        valid_per_day=valid_per_day,
        upload_ttl_s=upload_ttl_hours * 3600,
        body=BodyTiming(idle_s=body_timeout),
        notify_allow_private=notify_allow_private,
    )
    store = open_store(db)
    console.print(f"submission API on http://{host}:{port} (docs at /docs), store {store.name}")
    uvicorn.run(create_app(store.location, limits), host=host, port=port, log_level="warning")
