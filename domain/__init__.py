"""The language of the review cycle: pure rules and models, no I/O, no clock."""
