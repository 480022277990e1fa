"""The taxonomy of life domains as data: parsing, validation and the packaged default."""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.vocabulary import LIFE_DOMAINS, GovernmentLevel

from .matcher import LexiconIndex
from .model import DEFAULT_THRESHOLD, DOMAIN_ID, Domain, Term, term_key

DEFAULT_TAXONOMY_FILE: Final = "taxonomy_v1.toml"
_VERSION: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated taxonomy with its vocabulary compiled for matching.

    Constructing one validates it and compiles the matcher, so every instance in the
    program is usable; ``dataclasses.replace`` goes through the same path.
    """

    version: str
    domains: tuple[Domain, ...]
    id: str = "seinpost_v1"
    """Identity of the vocabulary as a whole: corrections carry it (``taxonomy_id``) and are
    only learned from by a classifier running the same taxonomy, so they never cross
    networks that do not share one. A network with its own file gives it its own id."""
    neutral_words: tuple[str, ...] = ()
    """Words that are never evidence and never split into parts ("thuis", "netwerk" where
    a network does not want them counted)."""
    index: LexiconIndex = field(init=False, repr=False, compare=False)
    fingerprint: str = field(init=False, repr=False, compare=False)
    """Hash of the content: two files with the same version but different vocabularies
    give different classifier versions."""

    def __post_init__(self) -> None:
        if not DOMAIN_ID.fullmatch(self.id):
            raise ValueError(
                f"taxonomy id {self.id!r} must be lower case letters, digits and _ (a slug)"
            )
        if not _VERSION.fullmatch(self.version):
            raise ValueError(
                f"taxonomy version {self.version!r} must be letters, digits, '.', '_' or '-'"
            )
        ids = [domain.id for domain in self.domains]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"domain id(s) listed twice: {duplicates}")
        missing = [d.id for d in LIFE_DOMAINS if d.id not in ids]
        if missing:
            raise ValueError(
                f"taxonomy lacks the life domain(s) {missing}: a network may add domains "
                "but not drop the shared ones"
            )
        vocabulary = {term_key(t.text): d.id for d in self.domains for t in d.terms}
        for word in self.neutral_words:
            key = term_key(word)
            if len(key) != 1:
                raise ValueError(f"neutral word {word!r} must be a single word")
            if key in vocabulary:
                raise ValueError(
                    f"neutral word {word!r} is also a term of domain {vocabulary[key]!r}"
                )
        object.__setattr__(self, "index", LexiconIndex(self.domains, self.neutral_words))
        object.__setattr__(self, "fingerprint", _fingerprint(self))

    def domain(self, domain_id: str) -> Domain:
        for domain in self.domains:
            if domain.id == domain_id:
                return domain
        raise KeyError(domain_id)

    @property
    def domain_ids(self) -> tuple[str, ...]:
        return tuple(domain.id for domain in self.domains)


def _fingerprint(taxonomy: Taxonomy) -> str:
    content = {
        "id": taxonomy.id,
        "version": taxonomy.version,
        "neutral_words": list(taxonomy.neutral_words),
        "domains": [
            {
                "id": d.id,
                "levels": list(d.levels),
                "threshold": d.threshold,
                "cross_cutting": d.cross_cutting,
                "terms": [[t.text, t.weight, t.compound, t.negatable] for t in d.terms],
            }
            for d in taxonomy.domains
        ],
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- the file format ---------------------------------------------------------------------
# Strict and closed: a misspelt key ("treshold") must be an error, not a silent default.


class _TermFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    weight: float
    compound: bool = True


class _DomainFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str
    label: str
    description: str
    levels: list[str]
    threshold: float | None = None
    cross_cutting: bool = False
    terms: dict[str, float | _TermFile] = Field(default_factory=dict)
    negatable: list[str] = Field(default_factory=list)


class _TaxonomyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = "seinpost_v1"
    version: str
    default_threshold: float = DEFAULT_THRESHOLD
    neutral_words: list[str] = Field(default_factory=list)
    domains: list[_DomainFile] = Field(min_length=1)


def _where(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    """A readable location: "domain 'wonen' > threshold" rather than "domains.3.threshold"."""
    parts: list[str] = []
    items = list(loc)
    if len(items) >= 2 and items[0] == "domains" and isinstance(items[1], int):
        domains = raw.get("domains")
        name: object = None
        if isinstance(domains, list) and items[1] < len(domains):
            entry = domains[items[1]]
            name = entry.get("id") if isinstance(entry, dict) else None
        parts.append(f"domain {name!r}" if isinstance(name, str) else f"domain #{items[1] + 1}")
        items = items[2:]
    # The union member names pydantic adds ("float", "_TermFile") mean nothing to an editor.
    parts.extend(str(i) for i in items if i not in {"float", "_TermFile"})
    return " > ".join(parts) or "file"


def _explain(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (misspelt?)"
    loc = error["loc"]
    if len(loc) >= 5 and loc[2] == "terms" and loc[4] in {"float", "_TermFile"}:
        return "must be a weight (a number) or { weight = ..., compound = true/false }"
    return str(error["msg"])


def _domain(entry: _DomainFile, default_threshold: float) -> Domain:
    negatable = {term_key(text) for text in entry.negatable}
    known = {term_key(text) for text in entry.terms}
    unknown = sorted(text for text in entry.negatable if term_key(text) not in known)
    if unknown:
        raise ValueError(f"domain {entry.id!r}: negatable word(s) {unknown} are not its terms")
    try:
        terms = tuple(
            Term(text, spec, negatable=term_key(text) in negatable)
            if isinstance(spec, float)
            else Term(text, spec.weight, spec.compound, term_key(text) in negatable)
            for text, spec in entry.terms.items()
        )
    except ValueError as error:
        raise ValueError(f"domain {entry.id!r}: {error}") from None
    return Domain(
        id=entry.id,
        label=entry.label,
        description=entry.description,
        levels=cast(tuple[GovernmentLevel, ...], tuple(entry.levels)),
        threshold=default_threshold if entry.threshold is None else entry.threshold,
        terms=terms,
        cross_cutting=entry.cross_cutting,
    )


def parse_taxonomy(toml_text: str) -> Taxonomy:
    """Parse and validate a taxonomy file. Raises ``ValueError`` naming the problem."""
    try:
        raw = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as error:
        hint = " (a term or key written twice in one table?)" if "overwrite" in str(error) else ""
        raise ValueError(f"taxonomy is not valid TOML: {error}{hint}") from None
    try:
        parsed = _TaxonomyFile.model_validate(raw)
    except ValidationError as error:
        problems = sorted({f"{_where(e['loc'], raw)}: {_explain(e)}" for e in error.errors()})
        raise ValueError("invalid taxonomy: " + "; ".join(problems)) from None
    try:
        return Taxonomy(
            id=parsed.id,
            version=parsed.version,
            neutral_words=tuple(parsed.neutral_words),
            domains=tuple(_domain(d, parsed.default_threshold) for d in parsed.domains),
        )
    except ValueError as error:
        raise ValueError(f"invalid taxonomy: {error}") from None


@functools.cache
def load_default_taxonomy() -> Taxonomy:
    """The taxonomy shipped with the classifier (read once, then shared: it is immutable)."""
    resource = importlib.resources.files(__package__).joinpath(DEFAULT_TAXONOMY_FILE)
    return parse_taxonomy(resource.read_text(encoding="utf-8"))


def load_taxonomy(path: Path | None) -> Taxonomy:
    """A network's own taxonomy file, or the packaged default when ``path`` is None."""
    if path is None:
        return load_default_taxonomy()
    return parse_taxonomy(path.read_text(encoding="utf-8"))
