"""A dataset folder as mobench writes and publishes it: `README.md` (the dataset card) and `<config>/*.parquet`.

Two exports write such folders, a benchmark's data (`hub.export`) and the hub's published results
(`hub.results_dataset`). They sit side by side in one layer and so may not import each other; what they share lives
here: which `--out` may be written (`check_out`), writing into a hidden staging folder that replaces the folder's
contents only once everything is written (`staged`), what a benchmark's licence lets leave the machine (the card's
`licence_notice` and publishing's `check_publishable`), and the upload to the Hugging Face Hub (`upload`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec

CARD = "README.md"


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse an `out` that is a file, or a non-empty folder unless it is an earlier export and `overwrite` is set."""
    if out.exists() and not out.is_dir():
        raise MobenchError(f"{out} is a file; --out names the folder to write the export to")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise MobenchError(f"{out} exists and is not empty; pass --overwrite to replace it")
        if not is_export(out):
            # --overwrite deletes the folder's contents: never a folder that holds anything but an earlier export.
            raise MobenchError(
                f"{out} holds files that are not a mobench export (README.md and <config>/*.parquet); "
                "--overwrite replaces only an earlier export"
            )


def is_export(folder: Path) -> bool:
    """True if `folder` holds only what a mobench export writes: README.md and <config>/*.parquet."""
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_symlink():
            return False
        if path.is_dir() and len(rel.parts) == 1:
            continue
        if path.is_file() and (rel.parts == (CARD,) or (len(rel.parts) == 2 and path.suffix == ".parquet")):
            continue
        return False
    return (folder / CARD).is_file()


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A hidden staging folder inside `out` (created, with its parents, if absent) to write an export into.

    When the block ends the staging folder's contents take the place of `out`'s (an earlier export or nothing:
    `check_out` first); when it raises, the staging folder goes, and `out` too if this created it, so a failed
    export leaves `out` as it was and a reader never sees half an export.
    """
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".mobench-partial-", dir=out))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            out.rmdir()
        raise
    for path in out.iterdir():
        if path == staging:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    for path in staging.iterdir():
        path.rename(out / path.name)
    staging.rmdir()


def licence_notice(spec: BenchmarkSpec, subject: str) -> str:
    """The dataset card's notice of what `spec`'s licence allows for `subject` (what the folder holds of the
    benchmark, e.g. "this data"); empty when the licence lets it be re-published freely."""
    if spec.license.redistribution == "no":
        return f"> **Local use only.** The {spec.license.id} licence forbids redistribution: do not publish {subject}."
    if spec.license.redistribution == "share-alike":
        return f"> **Share-alike.** Anything derived from {subject} must carry the {spec.license.id} licence."
    return ""


def check_publishable(
    spec: BenchmarkSpec, what: str = "", remedy: str = "Exports of it are for local use only."
) -> None:
    """Refuse, in one line naming the benchmark and its licence, to publish `what` of a benchmark (its data when
    `what` is empty) whose licence forbids redistribution; `remedy` says what the user can do instead."""
    if spec.license.redistribution == "no":
        subject = f"{what} of {spec.id}" if what else spec.id
        message = (
            f"{subject} cannot be published: its licence ({spec.license.id}) forbids redistribution. "
            f"{spec.license.note} {remedy}"
        )
        raise MobenchError(" ".join(message.split()))


def upload(folder: Path, repo_id: str, *, private: bool, dry_run: bool) -> list[Path]:
    """Upload `folder` as the Hugging Face dataset repository `repo_id` (created if absent); returns its files.

    The token is huggingface_hub's own (HF_TOKEN, or `hf auth login`), as for any Hugging Face tool; with `dry_run`
    nothing is sent and the files are only listed. The caller checks the licences first.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if dry_run:
        return files
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder))
    return files
