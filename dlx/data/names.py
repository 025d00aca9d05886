"""Person names for the character-level language model, read from the installed Faker package.

Faker ships its locales' name lists inside its wheel (``faker.providers.person.<locale>``);
dlx reads them from there at run time (no download, nothing copied into dlx). For en_US:
690 first and 1,000 last names, 1,584 distinct after lower-casing. Install the pinned extra
with ``pip install 'dlx[names]'``.
"""

from __future__ import annotations

import importlib

from dlx.errors import ConfigError

EXTRA = "names"


def load_names(locale: str = "en_US", lower: bool = True) -> list[str]:
    """The distinct first and last names of Faker's ``locale`` person provider, sorted."""
    try:
        importlib.import_module("faker")
    except ImportError:
        raise ConfigError(f"the names dataset ships with Faker: pip install 'dlx[{EXTRA}]'") \
            from None
    try:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    except ImportError:
        raise ConfigError(f"Faker has no person provider for locale {locale!r}") from None
    names = set()
    for attribute in ("first_names", "last_names"):
        names.update(str(n) for n in getattr(provider, attribute, ()))
    if lower:
        names = {n.lower() for n in names}
    names.discard("")
    return sorted(names)
