"""Coverage-guided fuzzing of the parsers a submitter's bytes reach, with atheris (libFuzzer for Python).

hypothesis (`tests/test_fuzz.py`) mutates valid files blindly; libFuzzer keeps every input that reaches new code
in mobench's own modules (they are imported under `atheris.instrument_imports`) and mutates those, so it finds
its way deeper into a format. Run as a program, one target per process, because libFuzzer owns the process:

    python -m tests.atheris_harness TARGET CORPUS_DIR -runs=N -artifact_prefix=DIR/

Any exception other than the target's own clear error (a `MobenchError` subclass) is a crash: libFuzzer prints
it, writes the input to the artifact prefix and exits non-zero. `tests/test_atheris.py` runs every target.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["submissions", "loaders", "hub"]):
    from evaluators.readers import health, iqa
    from hub.core.errors import FormatError, MobenchError, PredictionError, SubmissionError
    from hub.core.registry import HealthTask, get_benchmark
    from loaders.formats.flo import read_flo_bytes
    from loaders.formats.kitti_png import read_kitti_flow_bytes
    from submissions.archive import Limits, stage
    from submissions.manifest import load_manifest

_STRESS = get_benchmark("pmdata-stress").task_as(HealthTask)
_SMALL = Limits(max_files=50, max_file_bytes=200_000, max_total_bytes=400_000, max_ratio=200.0, max_depth=8)


def _in_file(name: str, read: Callable[[Path], object]) -> Callable[[bytes], object]:
    """A target that writes the input to a fresh file `name` and reads it with `read`."""

    def target(data: bytes) -> object:
        folder = Path(tempfile.mkdtemp())
        try:
            path = folder / name
            path.write_bytes(data)
            return read(path)
        finally:
            shutil.rmtree(folder)

    return target


def _stage(archive: Path) -> None:
    """Stage into a folder next to the archive; whatever happens, nothing may be written outside it."""
    dest = archive.parent / "dest" / "inner"
    (archive.parent / "dest").mkdir()
    try:
        stage(archive, dest, _SMALL)
    finally:
        outside = sorted(p.name for p in archive.parent.iterdir())
        if outside != sorted([archive.name, "dest"]):
            raise AssertionError(f"staging wrote outside its folder: {outside}")


# target -> (reader of the input bytes, the clear error it may raise)
TARGETS: dict[str, tuple[Callable[[bytes], object], type[MobenchError]]] = {
    "manifest": (_in_file("manifest.yaml", lambda p: load_manifest(p, display_name="manifest.yaml")), SubmissionError),
    "zip": (_in_file("s.zip", _stage), SubmissionError),
    "flo": (lambda data: read_flo_bytes(data, "frame_0001.flo"), FormatError),
    "kitti_png": (lambda data: read_kitti_flow_bytes(data, "flow/000000_10.png"), FormatError),
    "piq23_csv": (_in_file("scores.csv", iqa.read_score_csv), PredictionError),
    "health_csv": (_in_file("predictions.csv", lambda p: health.read_csv(p, _STRESS)), PredictionError),
}


def main(argv: list[str]) -> None:
    name, libfuzzer_args = argv[1], argv[2:]
    read, allowed = TARGETS[name]

    def one_input(data: bytes) -> None:
        try:
            read(data)
        except allowed as err:
            if not str(err).strip():
                raise AssertionError(f"{type(err).__name__} without a message") from err

    atheris.Setup([argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
