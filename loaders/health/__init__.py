"""Health sensing datasets (PMData, LifeSnaps) and the Health-LLM event-prediction tasks built on them.

One module per dataset (`pmdata`, `lifesnaps`) reads the official release as shipped and normalises it into one long
table (`schema.Observation`, with a `schema.LoadReport` that counts missing files, missing-value markers, duplicates
and gaps). `windows` turns reports and events into prediction windows exactly as Health-LLM (Kim et al. 2024,
github.com/mitmedialab/Health-LLM, `gen_dataset.py`) builds them, `splits` assigns windows to the benchmark's
configs, and `tasks` names every task with its label range and kind, for the loaders, the evaluator and lm-eval.
"""
