"""lm-evaluation-harness task definitions for Mobile-MMLU and Mobile-MMLU-Pro, shipped as package data.

This folder is what `mobench lm-eval-tasks` prints for `--include_path`. The YAML files name their Python hooks by
dotted path (`!function loaders.lm_tasks.hooks.load_docs`), so the hooks are the installed mobench code rather than
a loose `utils.py` copied next to the YAML. Templates start with `_` and carry no `task:` key, which lm-eval's
indexer skips.
"""

from __future__ import annotations

from pathlib import Path

TASKS_DIR = Path(__file__).resolve().parent
