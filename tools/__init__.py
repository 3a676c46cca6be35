"""Tools for working on the product that are not part of it (not packaged): the
dealership language-model builder and the speech-recognition accuracy check. Run them
with `python3 -m uv run python -m tools.<name>`."""
