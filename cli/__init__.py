"""The `cis` command: the dev stack, cycles, cohorts, status and timelines."""
