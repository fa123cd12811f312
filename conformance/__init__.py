"""GWS v2 agent chat conformance suite. Suites import the harness from `conformance.api` (its public
surface, with `__all__`); this package module stays empty so that importing any part of it (the
simulator, the CLI) loads nothing else.

PYTEST_DONT_REWRITE: `gws-conformance run` imports this package before it starts pytest in the same
process, so pytest (which marks every pytest11 plugin's distribution for assertion rewriting) could not
rewrite it anyway and would warn (PytestAssertRewriteWarning) on every run of an installed copy.
"""
