"""GWS v2 agent chat conformance suite.

PYTEST_DONT_REWRITE: `gws-conformance run` imports this package before it starts pytest in the same
process, so pytest (which marks every pytest11 plugin's distribution for assertion rewriting) could not
rewrite it anyway and would warn (PytestAssertRewriteWarning) on every run of an installed copy.
"""
