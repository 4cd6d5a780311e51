"""The embedded Mobile-MMLU mini benchmark: a handful of multiple-choice questions written for the mobench demo.

None of these questions comes from the real release (which is CC BY-NC-ND and never shipped). They are laid out as
the release is: `test/<field>.csv` with the official columns for the full set, one CSV with a `Field` column for
the Pro subset, and no answers in the root. The answer key, which the hub operator would hold, is written *next
to* the root, at `hidden_labels_path(root)`, so that exporting or publishing the root can never leak it.
"""

from __future__ import annotations

import csv
import hashlib
import random
from pathlib import Path

from loaders.mobile_mmlu import OFFICIAL_COLUMNS, OPTION_LETTERS, PRO_COLUMNS
from loaders.synthetic import hidden_labels_path, mark_synthetic

# field -> (question, correct option, three wrong options)
Questions = dict[str, list[tuple[str, str, str, str, str]]]

# written for the demo
QUESTIONS: Questions = {
    "cooking_and_recipes": [
        (
            "Which pan is best for searing a steak at high heat?",
            "A heavy cast iron pan",
            "A thin plastic bowl",
            "A paper plate",
            "A glass measuring jug",
        ),
        (
            "What should you do before chopping fresh herbs?",
            "Wash and dry the herbs",
            "Freeze the knife overnight",
            "Boil the cutting board",
            "Add salt to the sink",
        ),
        ("Which ingredient makes bread dough rise?", "Yeast", "Vinegar only", "Ice cubes", "Food colouring"),
        (
            "How long should you rest a roast before carving it?",
            "About ten minutes",
            "Two full days",
            "No time at all, carve while boiling",
            "Until it is frozen",
        ),
    ],
    "first_aid": [
        (
            "What is the first thing to do for a minor burn?",
            "Cool the burn under running water",
            "Cover it with butter",
            "Pop any blisters",
            "Rub ice directly on it for an hour",
        ),
        ("Which number do you call for an ambulance in the European Union?", "112", "411", "0800", "555"),
        (
            "How should you help someone who is choking and cannot cough?",
            "Give firm back blows",
            "Offer a glass of water",
            "Ask them to lie down and sleep",
            "Wait for it to pass",
        ),
        (
            "What should a basic first aid kit contain?",
            "Sterile bandages and a first aid kit guide",
            "A hair dryer",
            "Fresh fruit",
            "A phone charger",
        ),
    ],
    "digital_literacy": [
        (
            "What does a padlock icon in the browser address bar indicate?",
            "The connection to the site is encrypted",
            "The site is free of charge",
            "The battery is low",
            "The phone is in airplane mode",
        ),
        (
            "Which password is the strongest?",
            "A long passphrase of random words",
            "password123",
            "Your birthday",
            "The name of your pet",
        ),
        (
            "What is a phishing message?",
            "A fake message trying to steal your login details",
            "A message about a fishing trip",
            "A software update from the phone maker",
            "A calendar reminder",
        ),
        (
            "Why should you update apps on your phone?",
            "To update apps with security fixes",
            "To make the screen brighter",
            "To increase the phone's weight",
            "To change the ringtone",
        ),
    ],
    "travel_planning": [
        (
            "What should you check before booking an international flight?",
            "That your passport is valid",
            "The colour of the plane",
            "The pilot's favourite food",
            "The airport's wallpaper",
        ),
        (
            "Which app feature helps you navigate a city offline?",
            "Downloaded offline maps",
            "A flashlight",
            "A step counter",
            "A music equaliser",
        ),
        (
            "How can you avoid roaming charges abroad?",
            "Use a local SIM card or eSIM",
            "Keep mobile data on all the time",
            "Call home every hour",
            "Stream videos over cellular",
        ),
        (
            "When is it usually cheapest to book a flight?",
            "Several weeks before the trip",
            "At the gate",
            "After the flight has left",
            "Exactly one hour before departure",
        ),
    ],
}


def _questions(seed: int, questions: Questions) -> list[tuple[str, dict[str, str], str]]:
    """(field, row with the official columns, answer letter); the seed fixes ids and option order."""
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, str], str]] = []
    for field, items in questions.items():
        for question, right, *wrong in items:
            options = [right, *wrong]
            rng.shuffle(options)
            qid = hashlib.sha256(f"{seed}:{question}".encode()).hexdigest()[:8]
            row = {"question_id": qid, "Question": question, **dict(zip(OPTION_LETTERS, options, strict=True))}
            out.append((field, row, OPTION_LETTERS[options.index(right)]))
    return out


def _write_key(root: Path, items: list[tuple[str, dict[str, str], str]]) -> None:
    with hidden_labels_path(root).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question_id", "answer"])
        writer.writerows([row["question_id"], answer] for _, row, answer in items)


def build_mobile_mmlu(root: Path, seed: int = 0, *, questions: Questions = QUESTIONS) -> None:
    """The full-set layout: `test/<field>.csv` with the official columns; key at `hidden_labels_path(root)`.

    `questions` maps a field to its (question, correct option, three wrong options); `mobench bench` passes the
    release's size (16,186 generated questions in 80 fields) to time scoring at full scale.
    """
    items = _questions(seed, questions)
    mark_synthetic(root, "loaders.synthetic.mobile_mmlu:build_mobile_mmlu", seed)
    (root / "test").mkdir(parents=True, exist_ok=True)
    for field in questions:
        with (root / "test" / f"{field}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(OFFICIAL_COLUMNS))
            writer.writeheader()
            writer.writerows(row for row_field, row, _ in items if row_field == field)
    _write_key(root, items)


def build_mobile_mmlu_pro(root: Path, seed: int = 0) -> None:
    """The Pro layout: one CSV with a `Field` column holding every other question of the full mini set."""
    items = _questions(seed, QUESTIONS)[::2]
    mark_synthetic(root, "loaders.synthetic.mobile_mmlu:build_mobile_mmlu_pro", seed)
    with (root / "mobile_mmlu_pro.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(PRO_COLUMNS))
        writer.writeheader()
        writer.writerows({**row, "Field": field} for field, row, _ in items)
    _write_key(root, items)
