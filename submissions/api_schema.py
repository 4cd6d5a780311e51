"""What the submission API's OpenAPI spec declares: request and response bodies, every error status of every
operation, the bearer scheme, and the links between operations (upload -> chunk -> complete -> status).

The spec is a contract for clients and for third-party testers (schemathesis runs against it in the test suite), so
it states what the server really sends: every error body is `{"detail": "<one line>"}` (`Problem`), FastAPI's own
`HTTPValidationError` shape included (`submissions.server` words validation errors as one line).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from hub.core.training_data import Badge, Declaration

UPLOAD_ID = r"^[0-9a-f]{32}$"


class Problem(BaseModel):
    detail: str = Field(description="what is wrong, and where (file, field, sample id), on one line")


def _whole_number(value: object) -> object:
    """JSON Schema's integer: a number with no fraction (10 and 10.0), never a boolean or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a whole number of bytes")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("expected a whole number of bytes")
        return int(value)
    return value


class UploadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="the archive's sha256, 64 hex digits")]
    size: int


def upload_request(max_bytes: int) -> type[UploadBody]:
    """The body of `POST /uploads` on a server that takes archives of up to `max_bytes`."""
    # the constraints before the validator, or pydantic writes them into the JSON schema under their Python names
    size = Annotated[
        int, Field(gt=0, le=max_bytes, description="the archive's size in bytes"), BeforeValidator(_whole_number)
    ]
    return create_model("UploadRequest", __base__=UploadBody, size=(size, ...))


class Receipt(BaseModel):
    id: str = Field(description="the submission's id: the sha256 of its content")
    benchmark: str
    status: str
    duplicate: bool = Field(description="this token sent the same content before: one submission")


class UploadState(BaseModel):
    upload_id: str
    offset: int = Field(description="bytes received so far: the next chunk starts here")
    size: int
    chunk_bytes: int = Field(description="the largest chunk the server takes")


class HistoryEntry(BaseModel):
    at: str
    state: str
    detail: str | None = Field(default=None, description="owner only")


class SubmissionView(BaseModel):
    """A submission's state: public, with the aggregate scores once published; its owner's token also sees why it
    was rejected or failed, the log excerpt and the worker holding it."""

    id: str
    benchmark: str
    config: str
    split: str
    status: str
    created_at: str | None
    updated_at: str | None
    history: list[HistoryEntry]
    scores: dict[str, float | None] = Field(description="aggregate scores, published submissions only")
    intervals: dict[str, list[float | None]] = Field(
        default_factory=dict,
        description="each aggregate score's 95 % bootstrap interval [low, high], published submissions only",
    )
    resampling: dict[str, str | int | float] | None = Field(
        default=None, description="how the intervals were drawn: unit, n_units, resamples, seed, level"
    )
    owner: bool = Field(description="whether the token sent is the submission's owner")
    training_data: Declaration | None = Field(
        default=None,
        description="what the manifest declares the model was trained on: `none` (zero-shot) or dataset names and "
        "URLs (`<name>`, `<name>:<split>`, `<name>:<config>/<split>`); null when undeclared",
    )
    training_badge: Badge | None = Field(
        default=None,
        description="what that declaration means on this benchmark (hub.core.training_data): zero-shot, trained "
        "(on its training split only), contaminated (declared overlap with its test or scored data), undeclared",
    )
    reason: str | None = Field(default=None, description="owner only")
    worker: str | None = Field(default=None, description="owner only")
    heartbeat_at: str | None = Field(default=None, description="owner only")
    lease_expires_at: str | None = Field(default=None, description="owner only")
    attempts: int | None = Field(default=None, description="owner only")
    log_excerpt: str | None = Field(default=None, description="owner only")


class Health(BaseModel):
    status: str
    version: str
    schema_version: int


class BenchmarkInfo(BaseModel):
    id: str
    title: str
    family: str
    primary_metric: str
    higher_is_better: bool
    configs: dict[str, dict[str, str]] = Field(description="config -> split -> label access (public/hidden/none)")
    prediction_format: str
    license: str


_MEANING = {
    400: "malformed request (e.g. a Content-Length that is not a number)",
    401: "no token, an unknown or a revoked token (the header WWW-Authenticate: Bearer says how to send one)",
    404: "no such submission, or no open upload of this token",
    408: "the request body did not arrive in time",
    409: "conflicts with the resource's state (wrong offset, a chunk already being written, incomplete upload, "
    "content another token submitted)",
    413: "larger than the server takes (refused from the declared Content-Length, before the body is read)",
    422: "refused: the archive, manifest or field named in the detail is wrong",
    429: "rate limit or daily quota reached (the header Retry-After says when to try again)",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of an operation, for FastAPI's `responses=`."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"model": Problem, "description": _MEANING[code]}
        if code in _HEADERS:
            entry["headers"] = _HEADERS[code]
        out[code] = entry
    return out


def links(status: int, description: str, **targets: tuple[str, dict[str, str]]) -> dict[int | str, dict[str, Any]]:
    """A success response with OpenAPI links: name -> (operationId, {parameter: runtime expression})."""
    return {
        status: {
            "description": description,
            "links": {
                name: {"operationId": operation, "parameters": parameters}
                for name, (operation, parameters) in targets.items()
            },
        }
    }
