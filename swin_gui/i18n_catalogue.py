"""Keeping the catalogue in step with the code (Babel does the extracting).

    python -m swin_gui.i18n_catalogue check [ru]    count what is unfinished (exit 1 if any)
    python -m swin_gui.i18n_catalogue update [ru [FILE.po:CTX,CTX ...]]
        add new msgids, untranslated, to swin_gui.po (argparse's to argparse.po, contexts
        routed to FILE.po there), and drop the entries no code uses any more

The msgids are what `pybabel extract -k tr:1c,2 -k ntr:1c,2,3 swin_gui` finds, plus the
view titles and tab labels of `render.registry.VIEWS` (contexts "View", "Tab"), plus argparse's own
words (context "argparse", extracted from the running Python's argparse with `_` and
`ngettext`). `tests/model/test_i18n_catalogue.py` runs `problems()` and wants all zeros.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .i18n import LOCALE_DIR, catalogue_files, read_catalogue

PACKAGE = Path(__file__).parent
KEYWORDS = ("tr:1c,2", "ntr:1c,2,3")
ARGPARSE = "argparse"
MAIN_FILE = "swin_gui.po"  # where `update` puts new msgids by default

Key = tuple[str, str]  # (msgctxt, msgid)


@dataclass
class Entry:
    plural: str | None
    locations: list[tuple[str, int]] = field(default_factory=list)


def _keywords(specs) -> dict:
    from babel.messages.frontend import parse_keywords

    return parse_keywords(list(specs))


def extract() -> dict[Key, Entry]:
    """Every msgid the app can ask for, with where it is used (a fresh copy)."""
    return {k: Entry(e.plural, list(e.locations)) for k, e in _extract().items()}


@functools.lru_cache(maxsize=1)
def _extract() -> dict[Key, Entry]:
    from babel.messages.extract import extract_from_dir, extract_from_file

    out: dict[Key, Entry] = {}

    def add(ctx: str | None, mid, where: tuple[str, int]) -> None:
        singular, plural = (mid[0], mid[1]) if isinstance(mid, tuple) else (mid, None)
        entry = out.setdefault((ctx or "", singular), Entry(plural))
        entry.locations.append(where)

    for filename, lineno, mid, _comments, ctx in extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python")],
        keywords=_keywords(KEYWORDS),
        comment_tags=(),
        strip_comment_tags=True,
    ):
        add(ctx, mid, (f"swin_gui/{filename}", lineno))
    from .render.registry import VIEWS

    for v in VIEWS:
        add("View", v.english_title, ("swin_gui/render/registry.py", 0))
        add("Tab", v.english_tab, ("swin_gui/render/registry.py", 0))
    for lineno, mid, _comments, _ctx in extract_from_file(
        "python", argparse.__file__, keywords=_keywords(("_", "ngettext:1,2")), options={}
    ):
        add(ARGPARSE, mid, ("argparse.py", lineno))
    return out


_FIELD = re.compile(r"\{[^{}]*\}|%(?:\([a-z_]+\))?[a-z%]")


def _fields(text: str) -> set[str]:
    return set(_FIELD.findall(text))


def problems(code: str = "ru", folder: Path | None = None) -> dict[str, list[str]]:
    """What keeps `code`'s catalogue from being finished, by kind (all lists must be empty):
    missing (used, not in any .po), untranslated (empty msgstr or plural form), fuzzy,
    obsolete (in a .po, used nowhere; argparse's words of other Python versions excepted),
    placeholders (a {field} or %s of the msgid missing or added in the translation),
    duplicates (one msgid in two .po files)."""
    from babel.messages.pofile import read_po

    used = extract()
    catalogue = read_catalogue(code, folder)
    out: dict[str, list[str]] = {
        k: [] for k in ("missing", "untranslated", "fuzzy", "obsolete", "placeholders")
    }
    out["duplicates"] = []
    seen: dict[Key, str] = {}
    for path in catalogue_files(code, folder):
        with path.open("rb") as f:
            for m in read_po(f, locale=code):
                key = (m.context or "", m.id[0] if isinstance(m.id, tuple) else m.id)
                if not key[1]:
                    continue
                if key in seen:
                    out["duplicates"].append(f"{key} in {seen[key]} and {path.name}")
                seen[key] = path.name
    for message in catalogue:
        if not message.id:
            continue
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        key = (message.context or "", singular)
        label = f"[{key[0]}] {singular!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if key not in used:
            if key[0] != ARGPARSE:
                out["obsolete"].append(label)
            continue
        if message.fuzzy:
            out["fuzzy"].append(label)
        if not all(s and s.strip() for s in strings):
            out["untranslated"].append(label)
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set().union(*(_fields(i) for i in ids))
        for s in strings:
            got = _fields(s)
            # a plural form may leave {n} out ("одно окно"), nothing else
            if got - wanted or (wanted - got) - {"{n}", "%s"}:
                out["placeholders"].append(f"{label} -> {s!r}")
                break
    for key in used:
        if catalogue.get(key[1], context=key[0] or None) is None:
            where = ", ".join(f"{f}:{n}" for f, n in used[key].locations[:2])
            out["missing"].append(f"[{key[0]}] {key[1]!r} ({where})")
    return out


def update(code: str = "ru", routes: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    """Add the used msgids that no .po has, untranslated, and drop the entries no code uses.
    A msgid goes to the file `routes` names for its context (argparse's words to
    argparse.po, anything else to swin_gui.po); returns {file: (added, dropped)}."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    routes = {ARGPARSE: "argparse.po", **(routes or {})}
    folder = LOCALE_DIR / code / "LC_MESSAGES"
    known = read_catalogue(code)
    used = extract()
    files: dict[str, Catalog] = {}

    def open_po(name: str) -> Catalog:
        if name not in files:
            path = folder / name
            if path.exists():
                with path.open("rb") as f:
                    files[name] = read_po(f, locale=code)
            else:
                files[name] = Catalog(locale=code, domain="swin_gui", project="Swin Explorer")
        return files[name]

    counts: dict[str, list[int]] = {}
    for (ctx, mid), entry in sorted(used.items()):
        if known.get(mid, context=ctx or None) is not None:
            continue
        name = routes.get(ctx, MAIN_FILE)
        msgid = (mid, entry.plural) if entry.plural else mid
        string = ("", "", "") if entry.plural else ""
        open_po(name).add(msgid, string, entry.locations, context=ctx or None)
        counts.setdefault(name, [0, 0])[0] += 1
    for path in catalogue_files(code):
        catalogue = open_po(path.name)
        for message in list(catalogue):
            if not message.id:
                continue
            singular = message.id[0] if isinstance(message.id, tuple) else message.id
            key = (message.context or "", singular)
            if key in used:
                message.locations = used[key].locations
            elif key[0] != ARGPARSE:
                catalogue.delete(message.id, context=message.context)
                counts.setdefault(path.name, [0, 0])[1] += 1
    folder.mkdir(parents=True, exist_ok=True)
    for name, catalogue in files.items():
        _header(catalogue)
        with (folder / name).open("wb") as f:
            write_po(f, catalogue, width=100, sort_output=True, include_lineno=False)
    return {name: (a, d) for name, (a, d) in counts.items()}


def _header(catalogue) -> None:
    catalogue.fuzzy = False
    catalogue.project, catalogue.version = "Swin Explorer", "0.1"
    catalogue.copyright_holder = "the Swin Explorer authors"
    catalogue.msgid_bugs_address = ""
    catalogue.last_translator = "Swin Explorer"
    catalogue.language_team = "ru"
    catalogue.header_comment = (
        "# Russian catalogue of Swin Explorer (see README, Interface language).\n"
        "# Terms follow docs/glossary.md. Regenerate entries with\n"
        "#   python -m swin_gui.i18n_catalogue update ru"
    )


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "check"
    code = args[1] if len(args) > 1 else "ru"
    if command == "update":  # update ru [FILE.po:CONTEXT,CONTEXT ...]
        routes = {}
        for item in args[2:]:
            name, _, contexts = item.partition(":")
            routes.update({c: name for c in contexts.split(",") if c})
        for name, (added, dropped) in update(code, routes).items():
            print(f"{name}: {added} added, {dropped} dropped")
        return 0
    found = problems(code)
    for kind, items in found.items():
        for item in items:
            print(f"{kind}: {item}")
    print(", ".join(f"{len(v)} {k}" for k, v in found.items()))
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
