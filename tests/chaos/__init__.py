"""The chaos run: a cohort driven through its cycles by simulated people while the worker, PostgreSQL and
the mail server fail under it; `make chaos` runs it in full, tests/test_chaos.py in a shortened form."""
