"""Measured figures for the Pixie tool kit, as JSON: ``python -m bench [NAME ...]`` (``make bench``).

Each benchmark is a module here with ``NAME`` and ``run(params) -> dict``; ``bench.__main__``
runs them, prints one JSON document to stdout (progress goes to stderr) and writes each
result to ``bench/results/<name>.json`` (git-ignored).
"""
