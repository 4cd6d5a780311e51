"""What a model picked for a multiple-choice question, however it was logged: a `Pick`, and the answer letter read
from free text (`extract_letter`, by `LETTER_RULE`), applied to the official CSV's `predicted_answer` and to the raw
generations of the generative lm-eval tasks.
"""

from __future__ import annotations

import re

import msgspec

from evaluators.readers.mobile_mmlu_tasks import displayed_to_original
from loaders.mobile_mmlu import OPTION_LETTERS

LETTER_RULE = (
    "1. strip whitespace and leading '*', '(', '[' and quotes; "
    "2. a letter A-D standing alone or followed by '.', ')', ':', ']', '*', ',' or a line break is the answer "
    "(so 'B', 'B.', '(C) because ...', '**D**' are read, but 'A balanced diet' is not); "
    "3. otherwise the letter after 'answer', 'answer is' or 'option' (any case, optional colon, full-width too); "
    "4. otherwise there is no answer, and the question counts as wrong."
)
_LEADING_LETTER = re.compile(r"^([A-D])(?:$|[.):\]*,\n])")
_CUE_LETTER = re.compile(r"(?:answer(?:\s+is)?|option)\s*[:：]?\s*[(*\[]*([A-D])\b", re.IGNORECASE)


def extract_letter(text: str) -> str | None:
    """The answer letter in a model's free-text reply by `LETTER_RULE`, or None."""
    stripped = text.strip().lstrip("*([\"'").strip()
    match = _LEADING_LETTER.match(stripped)
    if match:
        return match.group(1)
    cue = _CUE_LETTER.search(text)
    if cue and cue.group(1) in OPTION_LETTERS:
        return cue.group(1)
    return None


_DISPLAYED = {letter: displayed for displayed, letter in enumerate(OPTION_LETTERS)}  # letter -> its position


class Pick(msgspec.Struct, frozen=True, gc=False):
    """One presentation of one question and what the model picked there.

    `letter` is the displayed letter picked (None if no letter could be read); `rotation` 0 is the official order.
    `question`/`options` are the question text and options *in the official order* as the log recorded them (None
    for the CSV, which has no text), used to detect logs made on another revision of the dataset.

    A frozen `msgspec.Struct` rather than a dataclass: a run holds one per record (64,744 for Mobile-MMLU's four
    rotations), and a Struct is built several times faster than a frozen dataclass and pickles as compactly.
    """

    question_id: str
    rotation: int
    letter: str | None
    source: str
    task: str = ""
    question: str | None = None
    options: tuple[str, ...] | None = None

    @property
    def original_choice(self) -> int | None:
        """The index, in the official order, of the option picked."""
        if self.letter is None:
            return None
        return displayed_to_original(_DISPLAYED[self.letter], self.rotation)
