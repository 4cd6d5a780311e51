"""Mobile-MMLU and Mobile-MMLU-Pro (VILA Lab, arXiv:2503.20786), read from the files the authors publish on the Hub.

The public release has **no answer column**: scoring against the answers happens on the authors' leaderboard, so in
mobench the answer key is a separate CSV held by the hub operator (hidden labels) and never part of a sample. The
official generation script (github.com/VILA-Lab/Mobile-MMLU, `generate_answers.py`) reads exactly the columns
`question_id, Question, A, B, C, D`; the loader keeps them verbatim and adds the field, which the full release only
encodes in the file name.
"""

from __future__ import annotations

import csv
from abc import abstractmethod
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.base import DatasetLoader
from loaders.formats.text import open_text

OPTION_LETTERS: tuple[str, ...] = ("A", "B", "C", "D")
OFFICIAL_COLUMNS: tuple[str, ...] = ("question_id", "Question", *OPTION_LETTERS)
PRO_COLUMNS: tuple[str, ...] = (*OFFICIAL_COLUMNS, "Field")
ALL_CONFIG = "all"

# The 80 fields, spelled as the release's file names (paper appendix D; note the authors' own spelling of
# `marketing__and_sales_strarigies`). Used to generate the per-field lm-eval tasks; the loader itself accepts
# whatever `test/*.csv` the root holds, so a typo here can never make the real release unreadable.
FIELDS: tuple[str, ...] = (
    "elementary_mathematics",
    "high_school_mathematics",
    "basic_statistics",
    "conceptual_physics",
    "science_fundamentals",
    "formal_logic",
    "logical_fallacies",
    "education_techniques",
    "reading_and_literature",
    "writing_skills",
    "linguistics",
    "social_sciences",
    "political_systems",
    "world_history",
    "geography",
    "project_management",
    "human_resources",
    "business_management",
    "marketing__and_sales_strarigies",
    "personal_finance",
    "e_commerce",
    "shopping",
    "accounting",
    "communication_and_public_speaking",
    "social_etiquette",
    "public_speaking",
    "digital_literacy",
    "technical_help",
    "mobile_customization",
    "cybersecurity",
    "online_privacy",
    "social_media",
    "digital_detox",
    "mental_health",
    "physical_fitness",
    "medical_and_health_knowledge",
    "ergonomics",
    "first_aid",
    "outdoor_survival_skills",
    "automotive_care",
    "basic_life_skills",
    "time_management",
    "conflict_resolution",
    "event_planning",
    "creativity",
    "emotional_intelligence",
    "personal_branding",
    "career_development",
    "fashion_and_style",
    "travel_planning",
    "sports",
    "gardening_and_horticulture",
    "entertainment",
    "movie_and_tv_show",
    "podcasting",
    "hobbies",
    "photography_basics_and_smartphone_photography",
    "home_safety",
    "pet_care",
    "waste_management",
    "home_maintenance",
    "parenting",
    "relationships",
    "teens_and_youth",
    "cooking_and_recipes",
    "food_safety",
    "nutrition_and_diet",
    "art_techniques_and_architecture",
    "interior_design",
    "cultural_awareness",
    "religious_studies",
    "holidays_and_traditions",
    "legal_rights",
    "law",
    "ethical_living",
    "ethics",
    "environmental_and_sustainable_living",
    "weather_forecasting",
    "global_facts",
    "news_and_information",
)


def read_question_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of one release CSV, checked against the official header; every problem names the file and line.

    Read as `csv.DictReader` reads (blank lines skipped, a short or long row an error), with a plain `csv.reader`,
    which builds each row's dict once: the full release has 16,186 rows.
    """
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader, ()))
        if header != columns:
            raise FormatError(path, f"header is {','.join(header)!r}; the release has {','.join(columns)!r}")
        rows: list[dict[str, str]] = []
        for values in reader:
            if not values:
                continue
            line = reader.line_num
            if len(values) != len(columns):
                raise FormatError(path, f"line {line}: expected {len(columns)} columns")
            row = dict(zip(columns, values, strict=True))
            if not row["question_id"].strip():
                raise FormatError(path, f"line {line}: empty question_id")
            if not row["Question"].strip():
                raise FormatError(path, f"line {line}: question {row['question_id']} has an empty Question")
            rows.append(row)
    return rows


class _MobileMMLUBase(DatasetLoader):
    """Shared by both releases: one sample per question, keyed by the official `question_id`.

    `config` is `all` (every question) or one field name, as the Hub card's configs are.
    """

    splits = ("test",)

    def __init__(self, root: str | Path, split: str = "test", config: str | None = None) -> None:
        super().__init__(root, split, config or ALL_CONFIG)
        fields = sorted({row["field"] for row in self._all_rows})
        if self.config != ALL_CONFIG and self.config not in fields:
            raise DatasetLayoutError(
                f"{type(self).__name__}: unknown config {self.config!r} for {self.root}; "
                f"configs: {ALL_CONFIG}, {', '.join(fields)}"
            )

    @abstractmethod
    def _read_all(self) -> list[dict[str, str]]:
        """Every question of the release, in file order: the OFFICIAL_COLUMNS, then its `field`."""

    @cached_property
    def _all_rows(self) -> list[dict[str, str]]:
        rows = self._read_all()
        seen: dict[str, str] = {}
        for row in rows:
            qid = row["question_id"]
            if qid in seen:
                raise DatasetLayoutError(
                    f"question_id {qid} appears twice in {self.root} (fields {seen[qid]} and {row['field']})"
                )
            seen[qid] = row["field"]
        if not rows:
            raise DatasetLayoutError(f"no questions under {self.root}\n{self.layout()}")
        return rows

    @cached_property
    def _rows(self) -> list[dict[str, str]]:
        if self.config == ALL_CONFIG:
            return self._all_rows
        return [row for row in self._all_rows if row["field"] == self.config]

    def sample_ids(self) -> list[str]:
        return [row["question_id"] for row in self._rows]

    def features(self) -> datasets.Features:
        return datasets.Features({name: datasets.Value("string") for name in ("id", *OFFICIAL_COLUMNS, "field")})

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            yield {"id": row["question_id"], **row}  # a row holds OFFICIAL_COLUMNS and field (`_read_all`)


class MobileMMLU(_MobileMMLUBase):
    """A local copy or Hub snapshot of `MBZUAI-LLM/Mobile-MMLU` (CC BY-NC-ND 4.0):

        <root>/
          test/
            accounting.csv        question_id,Question,A,B,C,D   (one file per field, 80 in the release)
            ...
          README.md               (the Hub card; not read)

    The field is the file's stem. No file carries answers.
    """

    def _read_all(self) -> list[dict[str, str]]:
        folder = self.require(self.root / self.split, f"{self.split}/ folder of per-field CSV files")
        files = sorted(folder.glob("*.csv"))
        if not files:
            raise DatasetLayoutError(f"no <field>.csv files in {folder}\n{self.layout()}")
        rows: list[dict[str, str]] = []
        for path in files:
            field = path.stem
            rows += [{**row, "field": field} for row in read_question_csv(path, OFFICIAL_COLUMNS)]
        return rows


class MobileMMLUPro(_MobileMMLUBase):
    """A local copy or Hub snapshot of `MBZUAI-LLM/Mobile-MMLU-Pro`, the harder subset:

        <root>/
          <name>.csv              question_id,Question,A,B,C,D,Field   (one CSV; its name is not fixed here)
          README.md               (the Hub card; not read)

    Exactly one CSV anywhere under the root must carry that header; the field is its `Field` column.
    """

    def _read_all(self) -> list[dict[str, str]]:
        candidates = sorted(
            p for p in self.root.rglob("*.csv") if not any(s.startswith(".") for s in p.relative_to(self.root).parts)
        )
        if len(candidates) != 1:
            found = ", ".join(str(p.relative_to(self.root)) for p in candidates) or "none"
            raise DatasetLayoutError(
                f"{self.root}: expected exactly one Mobile-MMLU-Pro CSV, found {found}\n{self.layout()}"
            )
        rows = read_question_csv(candidates[0], PRO_COLUMNS)
        return [{**{c: row[c] for c in OFFICIAL_COLUMNS}, "field": row["Field"]} for row in rows]


def read_answer_key(path: Path) -> dict[str, str]:
    """The operator's key `question_id,answer` (answer a letter A-D), checked line by line."""
    if not path.is_file():
        raise FormatError(path, "answer key not found")
    key: dict[str, str] = {}
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        if [name.strip() for name in reader.fieldnames or []][:2] != ["question_id", "answer"]:
            raise FormatError(path, f"header is {reader.fieldnames!r}; expected 'question_id,answer'")
        for row in reader:
            qid, answer = (row.get("question_id") or "").strip(), (row.get("answer") or "").strip().upper()
            if answer not in OPTION_LETTERS:
                raise FormatError(path, f"line {reader.line_num}: question {qid}: answer {answer!r} is not A-D")
            if qid in key:
                raise FormatError(path, f"line {reader.line_num}: question {qid} appears twice")
            key[qid] = answer
    return key
