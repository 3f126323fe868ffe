"""The lexicon (analysis/lexicon.yaml): tracked phrases and citation entities, validated by pydantic.

Tracked phrases
    Each phrase has an id, a label, the surface ``forms`` that count, optional token-level spaCy
    ``Matcher`` patterns, and notes. Forms match whole tokens (spaCy's English tokenizer), so
    "from scratch" never matches inside "scratchpad". Matching is case-insensitive unless
    ``case_sensitive``. With ``hyphen_variants`` (the default) every multi-word form also counts
    with hyphens between its words and every hyphenated form with spaces ("vibe coding" <->
    "vibe-coding"); plural and inflected variants are listed explicitly, so what counts is
    always readable in the YAML.

Citation entities
    People, works, games, companies and concepts. ``aliases`` always count; ``weak_aliases``
    count only when the same sentence also contains one of ``require_context`` (so "Shannon"
    alone counts only next to "information", "entropy", ...); a mention that lies inside an
    occurrence of an ``exclude`` phrase does not count ("Turing" inside "Turing-complete").
    A name not listed does not count at all: "Kay" alone is not Alan Kay. Each entry's
    ``notes`` says its rule in words.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from pipelines.core.config import ConfigError, Strict, load_yaml_model
from pipelines.core.ids import check_safe_id

__all__ = [
    "ConfigError",
    "Entity",
    "Lexicon",
    "Phrase",
    "default_lexicon_path",
    "lexicon_hash",
    "load_lexicon",
]

EntityType = Literal["person", "work", "game", "company", "concept"]
HANDLE_RE = re.compile(r"^@[A-Za-z0-9_]{1,30}$")
_SPACE_BETWEEN_WORDS = re.compile(r"(?<=\w) +(?=\w)")
_HYPHEN_BETWEEN_WORDS = re.compile(r"(?<=\w)-(?=\w)")


def _clean_strings(values: list[str], field: str) -> list[str]:
    out: list[str] = []
    for i, v in enumerate(values):
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{field}[{i}] is empty")
        v = " ".join(v.split())
        if v not in out:
            out.append(v)
    return out


def hyphen_variants(form: str) -> list[str]:
    """The form plus its hyphen<->space twins: "vibe coding" -> ["vibe coding", "vibe-coding"]."""
    out = [form]
    for alt in (_SPACE_BETWEEN_WORDS.sub("-", form), _HYPHEN_BETWEEN_WORDS.sub(" ", form)):
        if alt not in out:
            out.append(alt)
    return out


class Phrase(Strict):
    id: str
    label: str
    forms: list[str] = Field(min_length=1)
    patterns: list[list[dict[str, Any]]] = Field(default_factory=list)
    case_sensitive: bool = False
    hyphen_variants: bool = True
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_safe_id(v)

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("label is empty")
        return v

    @field_validator("forms")
    @classmethod
    def _forms(cls, v: list[str]) -> list[str]:
        return _clean_strings(v, "forms")

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        from spacy.schemas import validate_token_pattern

        for i, pattern in enumerate(v):
            if not pattern:
                raise ValueError(f"patterns[{i}] is empty")
            errors = validate_token_pattern(pattern)
            if errors:
                raise ValueError(f"patterns[{i}] is not a valid spaCy Matcher pattern: {'; '.join(errors)}")
        return v

    def surface_forms(self) -> list[str]:
        """Every string that counts, with hyphen variants expanded when enabled."""
        if not self.hyphen_variants:
            return list(self.forms)
        out: list[str] = []
        for f in self.forms:
            for alt in hyphen_variants(f):
                if alt not in out:
                    out.append(alt)
        return out


class Entity(Strict):
    id: str
    name: str
    type: EntityType
    aliases: list[str] = Field(default_factory=list)
    weak_aliases: list[str] = Field(default_factory=list)
    require_context: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list)
    case_sensitive: bool = False
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_safe_id(v)

    @field_validator("aliases", "weak_aliases", "require_context", "exclude")
    @classmethod
    def _strings(cls, v: list[str], info: Any) -> list[str]:
        return _clean_strings(v, info.field_name)

    @field_validator("handles")
    @classmethod
    def _handles(cls, v: list[str]) -> list[str]:
        v = _clean_strings(v, "handles")
        for h in v:
            if not HANDLE_RE.match(h):
                raise ValueError(f"handle {h!r} must look like '@name' (letters, digits, '_')")
        return v

    @model_validator(mode="after")
    def _rules(self) -> Entity:
        if not self.aliases and not self.handles and not self.weak_aliases:
            raise ValueError("needs at least one of aliases, weak_aliases or handles")
        if self.weak_aliases and not self.require_context:
            raise ValueError("weak_aliases need require_context (the words that make them count)")
        return self

    def strong_forms(self) -> list[str]:
        return list(dict.fromkeys(self.aliases + self.handles))


class NgramSettings(Strict):
    """What the ``ngrams`` table keeps: the n values, the minimum frequency, and the top N per n."""

    ns: list[int] = Field(default_factory=lambda: [1, 2, 3, 4], min_length=1)
    min_frequency: int = Field(default=3, ge=1)
    top_n: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _ns(self) -> NgramSettings:
        bad = [n for n in self.ns if not 1 <= n <= 6]
        if bad:
            raise ValueError(f"ns: n-gram sizes must be 1 to 6, got {bad}")
        return self


class Lexicon(Strict):
    phrases: list[Phrase] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    ngrams: NgramSettings = Field(default_factory=NgramSettings)
    notes: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> Lexicon:
        for section, ids in (
            ("phrases", [p.id for p in self.phrases]),
            ("entities", [e.id for e in self.entities]),
        ):
            seen: dict[str, int] = {}
            for i, item_id in enumerate(ids):
                if item_id in seen:
                    raise ValueError(f"{section}[{i}] id {item_id!r} repeats {section}[{seen[item_id]}]")
                seen[item_id] = i
        # One surface form must not count for two phrases (it would be double-counted).
        owner: dict[tuple[str, bool], str] = {}
        for p in self.phrases:
            for f in p.surface_forms():
                key = (f if p.case_sensitive else f.lower(), p.case_sensitive)
                if key in owner and owner[key] != p.id:
                    raise ValueError(f"phrases: form {f!r} of {p.id!r} already counts for {owner[key]!r}")
                owner[key] = p.id
        e_owner: dict[str, str] = {}
        for e in self.entities:
            for f in e.strong_forms() + e.weak_aliases:
                low = f.lower()
                if low in e_owner and e_owner[low] != e.id:
                    raise ValueError(f"entities: alias {f!r} of {e.id!r} already belongs to {e_owner[low]!r}")
                e_owner[low] = e.id
        return self

    def phrase(self, phrase_id: str) -> Phrase:
        for p in self.phrases:
            if p.id == phrase_id:
                return p
        raise KeyError(phrase_id)

    def entity(self, entity_id: str) -> Entity:
        for e in self.entities:
            if e.id == entity_id:
                return e
        raise KeyError(entity_id)


def default_lexicon_path() -> Path:
    return Path(__file__).resolve().parents[2] / "analysis" / "lexicon.yaml"


def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """Load and validate the lexicon; a bad entry raises ConfigError naming file, entry and field."""
    return load_yaml_model(Path(path) if path else default_lexicon_path(), Lexicon)


def lexicon_hash(lexicon: Lexicon) -> str:
    """A stable hash of what the lexicon matches (part of the NLP cache key)."""
    payload = json.dumps(lexicon.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
