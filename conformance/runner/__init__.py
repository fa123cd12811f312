"""The runner: runs the suites under pytest and turns what happened into the run's outcome.

`plugin.py` is the pytest11 entry point `gws_conformance`; it registers one module per concern:
`options` (command line, the run's Config), `marker` (the requirement marker), `collection` (which suite
tests run, --list), `deadlines` (each test's timeout and which test is running), `session` (the target
and transcript fixtures), `results` (every test's outcome, collected where the reports arrive),
`phase_reports` (each pytest report made to say the suite's outcome, with its evidence, redacted),
`interruption` (a run that stopped early), `verdict` (the summary, report files and exit status) and
`terminal` (a FAIL's readable text, the verdict at the end of the terminal output).
Run inputs: `expectations`, `selection`, `select_names`; used by those: `outcomes` (what a failed phase is),
`evidence`, `redaction`, `bundle`, `version`.

The runner reads `conformance.reporting` (which never reads the runner) and the harness; of the
simulator it knows only what `conformance.target` says.
"""
