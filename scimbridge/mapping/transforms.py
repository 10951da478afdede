"""The named transforms a mapping may apply to a value: few, total, and never raising.

Each transform takes whatever a source gave (a string, a list of values, a
boolean…) and returns a value or None; a value it has no meaning for passes
through unchanged, so that the vendor record shape check, not a stack trace,
reports the problem. A string transform applies to each string of a list too.

Transforms are compiled once, when the mapping is loaded: a regular expression,
a table, a date format is checked then, and a wrong argument is refused with the
location of its key (:class:`TransformError`). They are named after the Entra ID
attribute-mapping functions an identity admin knows (docs/mapping.md,
"Transforms").
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from collections.abc import Callable, Iterable
from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta
from functools import partial
from typing import Any

from anyascii import anyascii

from scimbridge.mapping.redaction import Redacted
from scimbridge.mapping.source import Location

Transform = Callable[[Any], Any]
Builder = Callable[[Any, Location], Transform]

TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "off", ""})


class TransformError(ValueError):
    """A transform that cannot be compiled, with the location of the key at fault."""

    def __init__(self, location: Location, message: str):
        super().__init__(message)
        self.location = location
        self.message = message


def _on_strings(change: Callable[[str], str]) -> Transform:
    """A string transform, applied to each string of a list too."""

    def apply(value: Any) -> Any:
        if isinstance(value, str):
            return change(value)
        if isinstance(value, list):
            return [change(item) if isinstance(item, str) else item for item in value]
        return value

    return apply


def _each_string(change: Callable[[str], Any]) -> Transform:
    """A string transform that may give nothing: applied to a string, and to each string
    of a list, where an item that gives nothing (None or "") is left out."""

    def apply(value: Any) -> Any:
        if isinstance(value, str):
            return change(value)
        if isinstance(value, list):
            changed = []
            for item in value:
                if isinstance(item, str):
                    item = change(item)
                    if item is None or item == "":
                        continue
                changed.append(item)
            return changed
        return value

    return apply


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _truth(value: Any) -> Any:
    """SCIM booleans are JSON booleans, but Okta custom attributes often arrive as "true"/"false"."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return value
    if isinstance(value, list):
        return bool(value)
    return bool(value) if value is not None else None


def _negation(value: Any) -> Any:
    truth = _truth(value)
    return not truth if isinstance(truth, bool) else truth


# -- normalize_diacritics (Entra NormalizeDiacritics) --------------------------------

DIACRITICS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
"""The combining diacritical marks (the blocks of that name, and those for symbols and half
marks). Marks of other scripts (Devanagari vowel signs, Thai, Hebrew points, the kana voicing
marks) are letters' parts there, not accents, and stay."""

LETTERS_WITHOUT_DECOMPOSITION = {
    "a": "ẚ", "A": "Ⱥ", "ae": "æǣǽ", "AE": "ÆǢǼ", "b": "ƀƃ", "B": "ƁƂɃ", "c": "ƈȼ", "C": "ƇȻ",
    "d": "đƌȡð", "D": "ĐƊƋƉÐ", "e": "ɇǝə", "E": "ɆƏ", "f": "ƒ", "F": "Ƒ", "g": "ǥ", "G": "ƓǤ",
    "h": "ħ", "H": "Ħ", "i": "\u0131", "I": "Ɨ", "j": "ɉȷ", "J": "Ɉ", "k": "ƙĸ", "K": "Ƙ",
    "l": "ŀłƚȴ", "L": "ĿŁȽ", "ll": "ỻ", "LL": "Ỻ", "n": "ƞȵŋŉ", "N": "ƝȠŊ", "o": "øǿ",
    "O": "ØƟǾ", "oe": "œ", "OE": "Œ", "p": "ƥ", "P": "Ƥ", "q": "ɋ", "r": "ɍ", "R": "Ɍ",
    "s": "ȿẜẝ", "ss": "ß", "SS": "ẞ", "t": "ŧƫƭȶ", "T": "ŦƬƮȾ", "th": "þ", "Th": "Þ",
    "V": "Ʋ", "y": "ƴɏỿ", "Y": "ƳɎỾ", "z": "ƶȥɀ", "Z": "ƵȤ",
}  # fmt: skip
"""Latin letters NFKD does not take apart (a stroke, a hook, a ligature, ß), by the ASCII they
are written as: Latin-1 Supplement and Latin Extended-A completely, Extended-B mostly."""
ASCII_LETTERS = str.maketrans(
    {
        letter: ascii
        for ascii, letters in LETTERS_WITHOUT_DECOMPOSITION.items()
        for letter in letters
    }
)


def _without_diacritics(text: str) -> str:
    """NFKD, then without combining diacritical marks, with the letters NFKD does not
    decompose written in ASCII, recomposed (NFC) so that other scripts come back whole."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text.translate(ASCII_LETTERS))
    text = DIACRITICS.sub("", text).translate(ASCII_LETTERS)
    return unicodedata.normalize("NFC", text)


# -- transliterate ---------------------------------------------------------------------


def _transliterated(text: str) -> str:
    """``text`` in ASCII, each character by its common romanization (anyascii's tables,
    maintained for every script Unicode has): "Иван" → "Ivan", "Γιώργος" → "Giorgos",
    "Zoë" → "Zoe", "やまだ" → "yamada". Han characters are read in Mandarin whatever the
    language ("山田" → "ShanTian"): a readable name, not a Japanese reading, which no
    table without a dictionary can give. ASCII is returned as it is."""
    return text if text.isascii() else anyascii(text)


# -- title_case (Entra PCase) -------------------------------------------------------

APOSTROPHES = frozenset("'\u2019")


def _title_case(text: str) -> str:
    """Each word's first letter in title case, the other letters in lower case.

    A word is a run of letters, digits and marks: "ada LOVELACE" → "Ada Lovelace",
    "o'neil-smith" → "O'Neil-Smith", "3RD" → "3rd". After an apostrophe a new word
    starts only when one letter precedes it ("O'Neil", "D'Artagnan", but "Don't").
    A letter whose case mapping is not one character (ß → "Ss"), or is another letter
    (the Kelvin sign's lower case is "k"), is kept as it is, so that the result is
    stable: title_case of a title-cased string is that string.
    """
    out = []
    in_word = False
    run = 0
    for char in text:
        kind = unicodedata.category(char)[0]
        if kind == "L":
            mapped = char.lower() if in_word else char.title()
            kept = len(mapped) != 1 or mapped.upper() != char.upper()
            out.append(char if kept else mapped)
            in_word, run = True, run + 1
            continue
        out.append(char)
        if kind in "MN":
            in_word, run = True, run + 1
        elif char in APOSTROPHES:
            in_word, run = in_word and run != 1, 0
        else:
            in_word, run = False, 0
    return "".join(out)


# -- unique (Entra RemoveDuplicates) ------------------------------------------------


def _identity(value: Any) -> Any:
    """A hashable stand-in for a JSON value, equal where the JSON values are equal.

    ``true`` and ``1`` differ (Python's ``True == 1`` does not say so); ``1`` and ``1.0``
    are the same JSON number.
    """
    if isinstance(value, str):
        return (str, str(value))
    if isinstance(value, bool):
        return (bool, value)
    if isinstance(value, int | float):
        return (float, value)
    if isinstance(value, list):
        return (list, tuple(_identity(item) for item in value))
    if isinstance(value, dict):
        return (dict, frozenset((key, _identity(item)) for key, item in value.items()))
    try:
        hash(value)
    except TypeError:
        return (object, id(value))
    return (type(value), value)


def _unique(value: Any) -> Any:
    """The list without repeated values, each kept where it first occurs."""
    if not isinstance(value, list):
        return value
    seen: set[Any] = set()
    kept = []
    try:
        for item in value:
            identity = _identity(item)
            if identity not in seen:
                seen.add(identity)
                kept.append(item)
    except RecursionError:
        return value
    return kept


# -- redact (Entra Redact) ----------------------------------------------------------


def _redact(value: Any) -> Any:
    """Each string of the value (in lists and objects too) marked Redacted (see redaction.py).

    A value nested too deep to mark gives nothing rather than an unmarked value.
    """
    try:
        return _marked(value)
    except RecursionError:
        return None


def _marked(value: Any) -> Any:
    if isinstance(value, str):
        return value if isinstance(value, Redacted) else Redacted(value)
    if isinstance(value, list):
        return [_marked(item) for item in value]
    if isinstance(value, dict):
        return {key: _marked(item) for key, item in value.items()}
    return value


SIMPLE: dict[str, Transform] = {
    "lower": _on_strings(str.lower),
    "upper": _on_strings(str.upper),
    "strip": _on_strings(str.strip),
    "first": _first,
    "bool": _truth,
    "not": _negation,
    "normalize_diacritics": _on_strings(_without_diacritics),
    "transliterate": _on_strings(_transliterated),
    "title_case": _on_strings(_title_case),
    "unique": _unique,
    "redact": _redact,
}
"""Transforms written as a bare name, e.g. ``transform: lower``."""


# -- Arguments ----------------------------------------------------------------------


def _object(
    argument: Any, location: Location, required: Iterable[str], optional: Iterable[str] = ()
) -> dict[str, Any]:
    """``argument`` as an object of these keys, or a TransformError at the key at fault."""
    required, allowed = tuple(required), (*required, *optional)
    if not isinstance(argument, dict):
        keys = ", ".join(f"{key}: …" for key in allowed)
        raise TransformError(location, f"write an object {{{keys}}}")
    for key in argument:
        if key not in allowed:
            raise TransformError(
                (*location, str(key)), f"unknown key {key!r}; allowed here: {', '.join(allowed)}"
            )
    for key in required:
        if key not in argument:
            raise TransformError(location, f"{key!r} is required")
    return argument


def _integer(value: Any, location: Location, minimum: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TransformError(location, f"{value!r} is not an integer")
    if minimum is not None and value < minimum:
        raise TransformError(location, f"{value} is less than the minimum of {minimum}")
    return value


def _text(value: Any, location: Location, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value):
        raise TransformError(location, f"{value!r} is not a{'' if empty else ' non-empty'} string")
    return value


def _split(argument: Any, location: Location) -> Transform:
    separator = _text(argument, location)

    def apply(value: Any) -> Any:
        return value.split(separator) if isinstance(value, str) else value

    return apply


def _join(argument: Any, location: Location) -> Transform:
    separator = _text(argument, location, empty=True)

    def apply(value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return separator.join(value)
        return value

    return apply


# -- map (Entra Switch) -------------------------------------------------------------

SCALAR = (str, int, float, bool)


def _key_text(value: Any) -> str | None:
    """The text a value is looked up by: a string itself, a boolean ``true``/``false``, a number
    as JSON writes it (``3``, ``2.5``); None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than int→str converts
            return None
    if isinstance(value, float):
        return repr(value)
    return None


def _map(argument: Any, location: Location) -> Transform:
    spec = _object(argument, location, ("values",), ("default", "ignore_case"))
    ignore_case = spec.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise TransformError((*location, "ignore_case"), f"{ignore_case!r} is not true or false")
    values = spec["values"]
    here = (*location, "values")
    if not isinstance(values, dict) or not values:
        raise TransformError(here, "write the table as an object {value: replacement, …}")
    table: dict[str, Any] = {}
    written: dict[str, str] = {}
    for key, replacement in values.items():
        if not isinstance(key, str):
            raise TransformError(
                here,
                f"the key {key!r} is not text: quote it (YAML reads yes, no, true, 1 … "
                "as booleans and numbers)",
            )
        if not isinstance(replacement, SCALAR):
            raise TransformError((*here, key), "a replacement is a string, number or boolean")
        folded = key.casefold() if ignore_case else key
        if folded in table:
            raise TransformError(
                (*here, key), f"{key!r} and {written[folded]!r} are the same when case is ignored"
            )
        table[folded], written[folded] = replacement, key
    default = spec.get("default")
    if "default" in spec and not isinstance(default, SCALAR):
        raise TransformError((*location, "default"), "a default is a string, number or boolean")

    def look_up(value: Any) -> Any:
        key = _key_text(value)
        if key is None:
            return value
        return table.get(key.casefold() if ignore_case else key, default)

    def apply(value: Any) -> Any:
        if isinstance(value, list):
            found = (look_up(item) for item in value)
            return [item for item in found if item is not None and item != ""]
        if isinstance(value, dict):
            return value
        return look_up(value)

    return apply


# -- replace (Entra Replace) --------------------------------------------------------


def _replace(argument: Any, location: Location) -> Transform:
    spec = _object(argument, location, ("pattern", "with"))
    pattern_text = _text(spec["pattern"], (*location, "pattern"))
    template = _text(spec["with"], (*location, "with"), empty=True)
    try:
        pattern = re.compile(pattern_text)
    except (re.error, ValueError, OverflowError, RecursionError) as error:
        raise TransformError(
            (*location, "pattern"), f"not a valid regular expression: {error}"
        ) from None
    try:
        pattern.sub(template, "")  # parses the template: \1, \g<name>, escapes
    except (re.error, IndexError, ValueError) as error:
        raise TransformError(
            (*location, "with"), f"not a valid replacement for this pattern: {error}"
        ) from None

    return _each_string(partial(pattern.sub, _replacement(pattern, template)))


MARKS = "\ue000\ue001\ue002"
"""Private-use characters, which no template escape can write: group ``n`` is marked
``\\ue000n\\ue001``, the whole match ``\\ue002`` (:func:`_replacement`)."""
MARKED_GROUP = re.compile("\ue000([0-9]+)\ue001")


def _replacement(pattern: re.Pattern[str], template: str) -> str | Callable[[re.Match[str]], str]:
    """``template`` in the form ``pattern.sub`` takes fastest, with the same meaning.

    Python 3.11 expands a template that names groups in Python, at every match (3.12 does
    it in C): three times the cost of the match itself, and most of the cost of a
    Rocket.Chat user name's candidates. Here Python expands it once, by its own rules, on
    a match whose every group holds a mark; the marks give a ``str.format`` string that
    each match's groups fill. A template without a backslash is a literal already; one
    that names the whole match, or holds a mark's character, is kept as it is."""
    if "\\" not in template or any(mark in template for mark in MARKS):
        return template
    names = {number: name for name, number in pattern.groupindex.items()}
    marks = [f"\ue000{number}\ue001" for number in range(1, pattern.groups + 1)]
    groups = "".join(
        f"(?P<{names[number]}>{mark})" if number in names else f"({mark})"
        for number, mark in enumerate(marks, start=1)
    )
    expanded = re.compile(f"\ue002{groups}").sub(template, "\ue002" + "".join(marks))
    if "\ue002" in expanded:
        return template
    pieces = MARKED_GROUP.split(expanded)  # text, group number, text, group number, …
    form = "".join(
        f"{{{int(piece) - 1}}}" if index % 2 else piece.replace("{", "{{").replace("}", "}}")
        for index, piece in enumerate(pieces)
    )

    def expand(match: re.Match[str]) -> str:
        return form.format(*match.groups(""))

    return expand


# -- truncate (Entra Left), substring (Mid), word (Word) ------------------------------


def _truncate(argument: Any, location: Location) -> Transform:
    size = _integer(argument, location, minimum=1)

    def change(text: str) -> str:
        return text[:size]

    return _on_strings(change)


def _substring(argument: Any, location: Location) -> Transform:
    spec = _object(argument, location, ("start",), ("length",))
    start = _integer(spec["start"], (*location, "start"), minimum=1) - 1
    length = spec.get("length")
    end = None if length is None else start + _integer(length, (*location, "length"), minimum=1)

    def change(text: str) -> str:
        return text[start:end]

    return _each_string(change)


def _word(argument: Any, location: Location) -> Transform:
    spec = _object(argument, location, ("index",), ("separators",))
    index = _integer(spec["index"], (*location, "index"))
    if index == 0:
        raise TransformError(
            (*location, "index"), "words count from 1 (the first), or from -1 (the last)"
        )
    split: Callable[[str], list[str]]
    if "separators" in spec:
        separators = _text(spec["separators"], (*location, "separators"))
        split = re.compile(f"[{re.escape(separators)}]+").split
    else:
        split = str.split
    position = index - 1 if index > 0 else index

    def change(text: str) -> str | None:
        words = [word for word in split(text) if word]
        if -len(words) <= position < len(words):
            return words[position]
        return None

    return _each_string(change)


# -- min_letters ----------------------------------------------------------------------


def _min_letters(argument: Any, location: Location) -> Transform:
    """``{min_letters: n}``: the string when it holds at least ``n`` letters or digits (of
    any script), nothing otherwise, so that a candidate cleaned down to punctuation
    ("-", "-.-") gives nothing and ``first_available`` passes on to the next."""
    least = _integer(argument, location, minimum=1)

    def change(text: str) -> str | None:
        return text if sum(char.isalnum() for char in text) >= least else None

    return _each_string(change)


# -- date (Entra FormatDateTime and DateAdd) ----------------------------------------

DATE_DIRECTIVES = frozenset("aAbBdfGHIjmMpSuUVwWyYzZ%")
"""The strftime directives a ``date`` format may use: the portable ones, without the
locale's whole-date forms (%c, %x, %X)."""
DIRECTIVE = re.compile("%(.?)", re.DOTALL)
DATE_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
LONGEST_DATE = 64
"""No RFC 3339 date-time is longer; a longer string is no date, and is not parsed."""
SAMPLE_DATE = datetime(2024, 2, 29, 13, 4, 5, tzinfo=UTC)


def _date(argument: Any, location: Location) -> Transform:
    spec = _object(argument, location, ("format",), ("add",))
    output = _text(spec["format"], (*location, "format"))
    if output != "iso":
        for found in DIRECTIVE.finditer(output):
            if found.group(1) not in DATE_DIRECTIVES:
                raise TransformError(
                    (*location, "format"),
                    f"%{found.group(1)} is not a directive a date format may use; "
                    f"use %{', %'.join(sorted(DATE_DIRECTIVES))}, or write iso",
                )
        try:
            SAMPLE_DATE.strftime(output)
        except (ValueError, UnicodeError) as error:
            raise TransformError((*location, "format"), f"not a date format: {error}") from None
    years = months = 0
    offset = timedelta()
    if "add" in spec:
        here = (*location, "add")
        add = _object(spec["add"], here, (), DATE_UNITS)
        if not add:
            raise TransformError(here, f"give at least one of {', '.join(DATE_UNITS)}")
        amounts = {unit: _integer(amount, (*here, unit)) for unit, amount in add.items()}
        years, months = amounts.pop("years", 0), amounts.pop("months", 0)
        try:
            offset = timedelta(**amounts)
        except OverflowError:
            raise TransformError(here, "more than a date can move") from None

    def change(text: str) -> str | None:
        if len(text) > LONGEST_DATE:
            return None
        try:
            moment = datetime.fromisoformat(text.strip())
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            if years or months:
                moment = _add_months(moment, years * 12 + months)
            moment += offset
            if output == "iso":
                return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            return moment.strftime(output)
        except (ValueError, OverflowError):
            return None

    return _each_string(change)


def _add_months(moment: datetime, months: int) -> datetime:
    """``moment`` so many calendar months later, on the same day or the month's last
    (31 January + 1 month = 29 February in a leap year). ValueError out of years 1-9999."""
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    if not MINYEAR <= year <= MAXYEAR:
        raise ValueError("out of range")
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


WITH_ARGUMENT: dict[str, Builder] = {
    "split": _split,
    "join": _join,
    "map": _map,
    "replace": _replace,
    "truncate": _truncate,
    "substring": _substring,
    "word": _word,
    "date": _date,
    "min_letters": _min_letters,
}
"""Transforms written with their argument, e.g. ``transform: {split: "@"}``."""


def compile_transform(spec: Any, location: Location = ()) -> Transform:
    """The transform ``spec`` names (``lower``, ``{split: "@"}``…).

    :param location: where the spec is in the file, for the error.
    :raises TransformError: for an unknown transform or a wrong argument, at the key at fault.
    """
    if isinstance(spec, str):
        if spec in SIMPLE:
            return SIMPLE[spec]
        known = ", ".join([*SIMPLE, *(f"{{{name}: …}}" for name in WITH_ARGUMENT)])
        raise TransformError(location, f"unknown transform {spec!r}; known: {known}")
    if isinstance(spec, dict) and len(spec) == 1:
        ((name, argument),) = spec.items()
        if name in WITH_ARGUMENT:
            return WITH_ARGUMENT[name](argument, (*location, name))
        if name in SIMPLE:
            raise TransformError((*location, name), f"{name} takes no argument: write {name}")
        raise TransformError(
            (*location, str(name)),
            f"unknown transform {name!r}; known with an argument: {', '.join(WITH_ARGUMENT)}",
        )
    raise TransformError(location, "a transform is a name, or {name: argument}")


def compile_transforms(spec: Any, location: Location) -> list[Transform]:
    """The transforms of a form's ``transform:`` key: one, or a list applied in order.

    ``redact`` must come last: a transform after it would make a new, unmarked string.
    """
    items = spec if isinstance(spec, list) else [spec]
    compiled = []
    for index, item in enumerate(items):
        here = (*location, index) if isinstance(spec, list) else location
        if item == "redact" and index != len(items) - 1:
            raise TransformError(
                here,
                "redact must be the last transform: one after it would give the value unredacted",
            )
        compiled.append(compile_transform(item, here))
    return compiled
