"""Test helpers that build format-exact stand-ins and run peers: fake weights, tiny extractors, peer adapters.

Used by the tests, by the notebooks' smoke profiles (fake weights), and by
the parity notebook's story (:mod:`genmetrics_nb.experiments.parity` runs
the peer adapters of :mod:`genmetrics_nb.testing.peers`). Nothing below
``experiments`` imports this package."""
