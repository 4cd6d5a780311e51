"""The measurement runner behind `mobench measure`: time a model on this machine, sample its power, write records.

`measure.run_measure` is the entry point the CLI calls; `power` samples whatever power sources a sysfs tree has;
`tiny_model` builds the small models the tests and the demo time.
"""
