collect_ignore = ["data"]  # fake suites, run by the tests in subprocesses
