"""Test helpers that build format-exact stand-ins: fake weights, tiny extractors.

Used by the tests and the notebooks' smoke profiles; nothing else in the package imports them."""
