"""Prediction windows as Health-LLM builds them, and the prompt text that goes with them.

Health-LLM (`gen_dataset.py`, read at the source) builds one sample per self-report: an event at time t belongs to
the window of a report at t_report when `t_report > t and t_report - t < 14 days` (7 days for LifeSnaps stress
resilience), i.e. the half-open interval (t_report - 14 d, t_report): an event exactly 14 days before is out, one
at the report's own instant is out. mobench applies the same rule after converting every clock to UTC.

The prompt texts are Health-LLM's, character for character, including its spelling ("Calorories"), so published
prompts are reproduced; its lists are Python's `str()` of the list of floats, as the original formats them. They are
Health-LLM's for the PMData items it predicts (`HEALTHLLM_PMDATA_SUBTASKS`); a PMData task on another wellness item
has no Health-LLM wording, so its spec declares its own (`task.prompt`, a mobench addition), and `pmdata_prompt`
refuses such a task without one rather than present Health-LLM's template as Health-LLM's prompt for it.
`ALPACA_PROMPT` is the medAlpaca template (`medalpaca/prompt_templates/medalpaca.json`) that Health-LLM's
fine-tuning code (HealthAlpaca) wraps instruction and input in; the lm-eval tasks use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from string import Formatter

from hub.core.errors import MobenchError
from hub.core.registry import HealthPrompt, HealthTask

PMDATA_WINDOW_DAYS = 14
LIFESNAPS_SRI_WINDOW_DAYS = 7

PMDATA_INSTRUCTION = (
    "You are a personalized healthcare agent trained to predict {task} which ranges from {low} to {high} based on "
    "physiological data and user information."
)
PMDATA_QUESTION = (
    "The recent 14-days sensor readings show: [Steps]: {steps} steps, [Burned Calorories]: {calories} calories, "
    "[Resting Heart Rate]: {rhr} beats/min, [SleepMinutes]: {sleep} minutes, [Mood]: {mood} out of 5; What would be "
    "the predicted {task}?"
)
PMDATA_ANSWER = "The predicted {task} level is {label}."
# the PMData wellness items Health-LLM predicts, with the prompt above (its SUBTASK names are these column names)
HEALTHLLM_PMDATA_SUBTASKS: tuple[str, ...] = ("stress", "readiness", "fatigue", "sleep_quality")
HEALTHLLM_PMDATA_PROMPT = HealthPrompt(instruction=PMDATA_INSTRUCTION, question=PMDATA_QUESTION, answer=PMDATA_ANSWER)
# the fields each part of a PMData prompt is formatted with
PMDATA_PROMPT_FIELDS: dict[str, frozenset[str]] = {
    "instruction": frozenset({"task", "low", "high"}),
    "question": frozenset({"task", "steps", "calories", "rhr", "sleep", "mood"}),
    "answer": frozenset({"task", "label"}),
}

ALPACA_PRIMER = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request."
)
ALPACA_PROMPT = ALPACA_PRIMER + "\n\n### Instruction:\n{instruction}\n\n### Input:\n{question}\n\n### Response:\n"


def in_window(t: datetime, t_report: datetime, days: int) -> bool:
    """Health-LLM's membership rule: strictly before the report and less than `days` days before it."""
    return t < t_report and t_report - t < timedelta(days=days)


def python_list(values: Sequence[float]) -> str:
    """A list as Health-LLM prints it (`str()` of a list of floats, e.g. `[5234.0, 410.5]`)."""
    return str([float(v) for v in values])


def alpaca_prompt(instruction: str, question: str) -> str:
    """The medAlpaca prompt around a window's instruction and question (see the module docstring)."""
    return ALPACA_PROMPT.format(instruction=instruction, question=question)


def pmdata_prompt(benchmark_id: str, task: HealthTask) -> HealthPrompt:
    """The wording of a PMData task's prompt: its spec's `task.prompt`, else Health-LLM's for the items it predicts;
    an error naming the benchmark for another item without one, or for a template naming a field it is not given."""
    if task.prompt is None:
        if task.subtask not in HEALTHLLM_PMDATA_SUBTASKS:
            raise MobenchError(
                f"{benchmark_id}: Health-LLM has no PMData prompt for {task.subtask!r} (it predicts "
                f"{', '.join(HEALTHLLM_PMDATA_SUBTASKS)}): declare the wording in the spec's task.prompt"
            )
        return HEALTHLLM_PMDATA_PROMPT
    for part, allowed in PMDATA_PROMPT_FIELDS.items():
        template = getattr(task.prompt, part)
        try:
            named = {field for _, field, _, _ in Formatter().parse(template) if field is not None}
            unknown = sorted(named - allowed)  # e.g. "{}" or "{0}" (no name), or a field only another part gets
            if unknown:
                raise ValueError(f"it names {', '.join(map(repr, unknown))}; it may name {', '.join(sorted(allowed))}")
            template.format(**dict.fromkeys(allowed, ""))
        except ValueError as err:
            raise MobenchError(f"{benchmark_id}: task.prompt.{part} is not a usable template: {err}") from None
    return task.prompt
