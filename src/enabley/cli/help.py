"""Help that speaks of values in words (FILE..., INTEGER, TEXT) rather than Python types
(``<list[Path]>``, ``<int range>``): the command classes every ``enabley`` command is made with."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

_WORDS: dict[object, str] = {int: "INTEGER", float: "NUMBER", str: "TEXT"}


def value_words(param: Any) -> str | None:
    """What a parameter's value is, in words; None for a flag, which takes no value."""
    if isinstance(param, TyperOption) and param.is_flag:
        return None
    if not isinstance(param, TyperOption | TyperArgument):
        return None
    info = param.type_descriptor
    annotation: Any = info.annotation
    many = param.nargs != 1  # an argument taking several values; a repeatable option takes one each time
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        words = "|".join(str(member.value) for member in annotation)
    elif isinstance(annotation, type) and issubclass(annotation, Path):
        parameter = info.parameter_info
        words = "FILE" if not parameter.dir_okay else "DIRECTORY" if not parameter.file_okay else "PATH"
    else:
        words = _WORDS.get(annotation, "TEXT")
    return words + ("..." if many else "")


class _InWords:
    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            words = value_words(param)
            param.display_type_rich = lambda ctx, words=words: words
        return params


class Command(_InWords, TyperCommand):
    """A command whose help names values in words."""


class Group(_InWords, TyperGroup):
    """A group of commands whose help names values in words."""
