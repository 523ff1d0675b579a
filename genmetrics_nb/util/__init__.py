"""Shared helpers at the bottom of the layers: argument checks and file I/O.

Nothing here imports any other part of ``genmetrics_nb``.
"""
