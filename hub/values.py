"""Checks of values read from another system's JSON, shared by every client and mapping."""


def is_whole(value) -> bool:
    """A whole number, not a boolean (JSON's true is an int to Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def as_dict(value):
    """`value` if it is an object, else an empty one: a mapping reads on without checks."""
    return value if isinstance(value, dict) else {}
