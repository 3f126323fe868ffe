"""Validated configuration of analysis/claims.yaml: the profile's checkable claims.

A claim names a *metric* from the fixed registry below (with its parameters), a *comparator*
and the *expected* value the profile states, and a *scope* (which documents the metric reads).
Everything is checked when the file loads: an unknown metric, a missing or unexpected
parameter, a comparator that does not fit the metric's value (a date compared with ``ge``), an
``approx`` without tolerance, or a date that is not ``YYYY``/``YYYY-MM``/``YYYY-MM-DD`` fails
with a ``ConfigError`` naming the file, the claim id and the field.

The metrics live in ``pipelines.core.claims.metrics`` (each spec beside its function). Ids a
claim refers to (phrases and entities of analysis/lexicon.yaml, catalog source ids) are checked
by ``check_references`` against those files, before any work starts: a typo never becomes a
verdict.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.core.claims.fmt import num as _num
from pipelines.core.claims.metrics import METRICS
from pipelines.core.claims.spec import QUOTE_CLASSES, QUOTE_RANK, MetricSpec
from pipelines.core.config import ConfigError, load_yaml_model, nearest
from pipelines.core.ids import check_safe_id
from pipelines.core.periods import Period, parse_period
from pipelines.core.records import DocKind

__all__ = [
    "METRICS",
    "ClaimsConfig",
    "Claim",
    "ConfigError",
    "MetricSpec",
    "Period",
    "Scope",
    "Tolerance",
    "load_claims",
    "parse_period",
    "referenced_ids",
    "check_references",
]

Frame = Literal["existence", "collection", "none"]
ClaimType = Literal[
    "corpus_size",  # words / documents / bytes of the corpus or a kind
    "composition",  # a source or kind is present, its date, its length
    "arithmetic",  # the profile's own numbers against each other (no data needed)
    "phrase_count",  # how often / where a phrase is used
    "citation",  # mentions of a person, work or thing
    "date",  # when something first appears ("coined Feb 2025") or happened
    "quote",  # a quoted sentence: is it in the corpus, and in the attributed source
    "coverage",  # the profile's own coverage figure
    "known_gap",  # an item the profile lists as not collected (reported, never judged)
    "not_checkable",  # opinion, interpretation, prediction: recorded with a reason
]
Comparator = Literal["eq", "ge", "le", "gt", "lt", "approx", "before", "after", "within"]
NUMBER_COMPARATORS = {"eq", "ge", "le", "gt", "lt", "approx"}
DATE_COMPARATORS = {"before", "after", "within"}
UNJUDGED_TYPES = {"not_checkable", "known_gap"}


def _period_or_none(v: Any) -> Any:
    return None if v is None else parse_period(v)


# --------------------------------------------------------------------------- models


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Tolerance(Strict):
    """For ``approx``: |measured - expected| <= rel * |expected| (rel) or <= abs (abs). Edges pass."""

    rel: float | None = Field(default=None, ge=0)
    abs: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one(self) -> Tolerance:
        if (self.rel is None) == (self.abs is None):
            raise ValueError(
                "give exactly one of 'rel' (a fraction, 0.05 = 5%) or 'abs' (in the metric's unit)"
            )
        return self

    def allowed(self, expected: float) -> float:
        return self.abs if self.abs is not None else (self.rel or 0.0) * abs(expected)

    def __str__(self) -> str:
        if self.abs is not None:
            return f"±{_num(self.abs)}"
        return f"±{(self.rel or 0) * 100:g}%"


class Scope(Strict):
    """Which documents a metric reads.

    ``kinds``, dates, ``own_only``, ``in_profile`` (true: sources the profile names, Known Gaps
    excluded) and ``in_catalog`` restrict (AND). The source
    selectors ``source_ids``, ``url_like`` (SQL ILIKE patterns on documents.url) and
    ``collection`` (sources.collection) pick sources: a document matches when it matches any
    of those given (OR); ``exclude_source_ids`` then drops sources. Dates are inclusive periods on documents.published_at (UTC).

    Coverage (how complete the scope's material is) compares the documents of the scope's
    sources, within ``coverage_from``/``coverage_to`` (not ``date_from``/``date_to``, so a
    one-month window is not "incomplete" just because it is short), against what the catalog
    expects (claimed_items / one document per catalogued item / claimed_words), or against
    ``expected_docs`` / ``expected_words`` when given here.

    ``frame`` places the scope in the profile's frame: ``existence`` (the default: documents dated
    after the profile's ``as_of`` day are left out, and shown apart), ``collection`` (a claim about
    the size of the profile's own collection: also only sources the profile names) or ``none``.
    """

    kinds: list[DocKind] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list)
    url_like: list[str] = Field(default_factory=list)
    collection: str | None = None
    exclude_source_ids: list[str] = Field(default_factory=list)
    date_from: Period | None = None
    date_to: Period | None = None
    own_only: bool = True
    in_profile: bool | None = None
    in_catalog: bool | None = None
    coverage_from: Period | None = None
    coverage_to: Period | None = None
    expected_docs: int | None = Field(default=None, ge=0)
    expected_words: int | None = Field(default=None, ge=0)
    # The profile's frame (see pipelines.core.claims.scope): "existence" reads documents dated up to
    # the profile's as_of day; "collection" also only the sources the profile names; "none" all.
    frame: Frame = "existence"

    @field_validator("date_from", "date_to", "coverage_from", "coverage_to", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> Any:
        return _period_or_none(v)

    @field_validator("source_ids", "exclude_source_ids")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        return [check_safe_id(s) for s in v]

    @model_validator(mode="after")
    def _order(self) -> Scope:
        for a, b in (("date_from", "date_to"), ("coverage_from", "coverage_to")):
            lo, hi = getattr(self, a), getattr(self, b)
            if lo and hi and lo.start > hi.end:
                raise ValueError(f"{a} ({lo}) is after {b} ({hi})")
        return self

    @property
    def day_from(self) -> date | None:
        return self.date_from.start if self.date_from else None

    @property
    def day_to(self) -> date | None:
        return self.date_to.end if self.date_to else None

    @property
    def selects_sources(self) -> bool:
        return bool(self.source_ids or self.url_like or self.collection)


class Claim(Strict):
    id: str
    section: str
    quote: str = Field(min_length=1)
    type: ClaimType
    # A short noun phrase explanations use for what is measured ("tweets with 'from scratch'").
    label: str | None = None
    metric: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    comparator: Comparator | None = None
    expected: Any = None
    tolerance: Tolerance | None = None
    scope: Scope = Field(default_factory=Scope)
    # Why a not_checkable / known_gap claim is not judged.
    reason: str | None = None
    note: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_safe_id(v)

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str | None) -> str | None:
        if v is not None and v not in METRICS:
            hint = nearest(v, METRICS)
            raise ValueError(f"unknown metric {v!r}{hint}" + ("" if hint else f"; known metrics: {', '.join(sorted(METRICS))}"))
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Claim:
        # Errors name the field they concern: the location pydantic gives is the claim itself.
        spec = METRICS.get(self.metric) if self.metric else None
        if self.type in UNJUDGED_TYPES:
            if not self.reason:
                raise ValueError(f"field 'reason': a {self.type} claim needs a reason")
            if self.comparator is not None or self.expected is not None:
                raise ValueError(
                    f"field 'comparator': a {self.type} claim is not judged; drop comparator/expected"
                )
        else:
            if spec is None:
                raise ValueError(f"field 'metric': a {self.type} claim needs a metric")
            if self.comparator is None:
                raise ValueError(
                    "field 'comparator': missing (eq, ge, le, gt, lt, approx, before, after, within)"
                )
            if self.expected is None:
                raise ValueError("field 'expected': missing")
        if spec is not None:
            _check_params(spec, self.params)
            if self.type == "arithmetic" and spec.needs_data:
                raise ValueError(
                    f"field 'metric': an arithmetic claim needs a profile_* metric, not {spec.name!r}"
                )
            if self.type != "arithmetic" and not spec.needs_data and self.type not in UNJUDGED_TYPES:
                raise ValueError(f"field 'type': metric {spec.name!r} reads no data; use type 'arithmetic'")
        elif self.params:
            raise ValueError("field 'params': given without a metric")
        if self.comparator is not None and spec is not None:
            if spec.value == "class":
                if self.comparator != "ge" or self.expected not in QUOTE_CLASSES[:-1]:
                    raise ValueError(
                        f"field 'expected': metric {spec.name!r} takes comparator ge and the weakest accepted "
                        f"class ({', '.join(QUOTE_CLASSES[:-1])}), not {self.comparator} {self.expected!r}"
                    )
                return self
            if spec.value == "number" and self.comparator not in NUMBER_COMPARATORS:
                raise ValueError(
                    f"field 'comparator': {self.comparator!r} compares dates but metric {spec.name!r} gives a number"
                )
            if spec.value == "date" and self.comparator not in DATE_COMPARATORS:
                raise ValueError(
                    f"field 'comparator': {self.comparator!r} compares numbers but metric {spec.name!r} gives a date "
                    "(use before, after or within)"
                )
            if self.comparator == "approx" and self.tolerance is None:
                raise ValueError("field 'tolerance': approx needs a tolerance ({rel: 0.05} or {abs: 1000})")
            if self.comparator != "approx" and self.tolerance is not None:
                raise ValueError(f"field 'tolerance': only approx takes a tolerance, not {self.comparator!r}")
            try:
                self.expected_number() if spec.value == "number" else self.expected_window()
            except ValueError as e:
                raise ValueError(f"field 'expected': {e}") from None
        return self

    # ---- the expected value, typed
    def expected_number(self) -> float:
        v = self.expected
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"{v!r} is not a number")
        return float(v)

    def expected_window(self) -> tuple[date | None, date | None]:
        """The accepted range of dates: (lowest, highest), either end open (None)."""
        v = self.expected
        if self.comparator == "within":
            if isinstance(v, dict):
                extra = set(v) - {"from", "to"}
                if extra or not v:
                    raise ValueError("a window is {from: YYYY[-MM[-DD]], to: YYYY[-MM[-DD]]}")
                lo = parse_period(v["from"]).start if v.get("from") is not None else None
                hi = parse_period(v["to"]).end if v.get("to") is not None else None
                if lo and hi and lo > hi:
                    raise ValueError(f"window starts ({lo}) after it ends ({hi})")
                return lo, hi
            p = parse_period(v)
            return p.start, p.end
        if isinstance(v, dict):
            raise ValueError(f"{self.comparator} takes one date, not a window")
        p = parse_period(v)
        if self.comparator == "before":
            return None, date.fromordinal(p.start.toordinal() - 1)
        return date.fromordinal(p.end.toordinal() + 1), None  # after

    def expected_text(self) -> str:
        if self.comparator is None:
            return ""
        if isinstance(self.expected, str) and self.expected in QUOTE_RANK:
            return self.expected.replace("_", "-") + " or closer"
        if self.comparator in DATE_COMPARATORS:
            lo, hi = self.expected_window()
            if self.comparator == "within":
                return f"{lo} to {hi}" if lo and hi else f"{lo or '…'} to {hi or '…'}"
            return str(
                parse_period(self.expected).start
                if self.comparator == "before"
                else parse_period(self.expected).end
            )
        text = _num(self.expected_number())
        if self.comparator == "approx" and self.tolerance:
            text += f" ({self.tolerance})"
        return text


class ClaimsConfig(Strict):
    profile: str | None = None  # the profile the claims come from, relative to the project
    # The day the profile speaks as of ("as of March 2026": 2026-03, its last day). Claims about what
    # exists are judged on documents dated up to it; later ones are shown apart, never used against it.
    as_of: Period | None = None
    # Free-form YAML anchors (&name) for scopes several claims share; not read otherwise.
    anchors: dict[str, Any] | None = None
    # Short forms quote matching reads as their expansion, both ways ("AI": "artificial intelligence").
    abbreviations: dict[str, str] = Field(default_factory=dict)
    claims: list[Claim]

    @field_validator("abbreviations")
    @classmethod
    def _abbreviations(cls, v: dict[str, str]) -> dict[str, str]:
        for short, expansion in v.items():
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.]*", short):
                raise ValueError(f"abbreviation {short!r}: one word of letters and digits")
            if len(expansion.split()) < 2:
                raise ValueError(f"abbreviation {short!r}: its expansion {expansion!r} must be two words or more")
        return v

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, v: Any) -> Any:
        return _period_or_none(v)

    @property
    def as_of_day(self) -> date | None:
        return self.as_of.end if self.as_of else None

    @model_validator(mode="after")
    def _unique(self) -> ClaimsConfig:
        seen: dict[str, int] = {}
        for i, c in enumerate(self.claims):
            if c.id in seen:
                raise ValueError(f"claims[{i}] id {c.id!r} repeats claims[{seen[c.id]}]")
            seen[c.id] = i
        return self

    def by_id(self) -> dict[str, Claim]:
        return {c.id: c for c in self.claims}


def _check_params(spec: MetricSpec, params: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        allowed = ", ".join(spec.params) or "none"
        raise ValueError(
            f"field 'params': metric {spec.name!r} takes no param {unknown[0]!r} (allowed: {allowed})"
        )
    for name, p in spec.params.items():
        if name not in params:
            if p.required:
                raise ValueError(f"field 'params': metric {spec.name!r} needs param {name!r} ({p.doc})")
            continue
        v = params[name]
        where = f"field 'params.{name}'"
        if p.type in ("str", "regex", "id"):
            if not isinstance(v, str) or not v:
                raise ValueError(f"{where}: expected a non-empty string, got {v!r}")
            if p.type == "id":
                try:
                    check_safe_id(v)
                except ValueError as e:
                    raise ValueError(f"{where}: {e}") from None
            if p.type == "regex":
                try:
                    re.compile(v)
                except re.error as e:
                    raise ValueError(f"{where}: not a valid regular expression: {e}") from None
            if p.choices and v not in p.choices:
                raise ValueError(f"{where}: {v!r} is not one of {', '.join(p.choices)}")
        elif p.type in ("str_list", "id_list"):
            if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
                raise ValueError(f"{where}: expected a non-empty list of strings")
            if p.type == "id_list":
                for x in v:
                    try:
                        check_safe_id(x)
                    except ValueError as e:
                        raise ValueError(f"{where}: {e}") from None
        elif p.type == "number_list":
            if (
                not isinstance(v, list)
                or not v
                or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
            ):
                raise ValueError(f"{where}: expected a non-empty list of numbers")
        elif p.type == "number":
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"{where}: expected a number, got {v!r}")
        elif p.type == "date":
            try:
                parse_period(v)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None


def load_claims(path: Path) -> ClaimsConfig:
    """Load and validate analysis/claims.yaml (ConfigError names file, claim id and field)."""
    return load_yaml_model(path, ClaimsConfig, where=_claim_location)


def _claim_location(data: Any, loc: tuple[Any, ...]) -> str:
    """ "claim 'x' (claims[3]), field 'scope.kinds[0]'": the claim by id even for nested fields."""
    where = "top level"
    rest = loc
    if len(loc) >= 2 and loc[0] == "claims" and isinstance(loc[1], int):
        claims = data.get("claims") if isinstance(data, dict) else None
        item = claims[loc[1]] if isinstance(claims, list) and 0 <= loc[1] < len(claims) else None
        cid = item.get("id") if isinstance(item, dict) else None
        where = f"claim {cid!r} (claims[{loc[1]}])" if cid else f"claims[{loc[1]}]"
        rest = loc[2:]
    field_name = ""
    for part in rest:
        field_name += f"[{part}]" if isinstance(part, int) else (f".{part}" if field_name else str(part))
    return f"{where}, field {field_name!r}" if field_name else where


def referenced_ids(cfg: ClaimsConfig) -> dict[str, set[str]]:
    """Phrase, entity and source ids the claims refer to (to align with lexicon.yaml / catalog.yaml)."""
    out: dict[str, set[str]] = {"phrases": set(), "entities": set(), "sources": set()}
    for c in cfg.claims:
        if "phrase" in c.params:
            out["phrases"].add(c.params["phrase"])
        if "entity" in c.params:
            out["entities"].add(c.params["entity"])
        out["entities"].update(c.params.get("among") or [])
        out["sources"].update(c.scope.source_ids)
        out["sources"].update(c.scope.exclude_source_ids)
    return out


def check_references(
    cfg: ClaimsConfig,
    path: Path,
    *,
    phrases: set[str],
    entities: set[str],
    sources: set[str],
) -> None:
    """Every phrase, entity and source id a claim names exists (in analysis/lexicon.yaml and
    analysis/catalog.yaml). Raises ConfigError naming the file, each claim and field, and the
    nearest valid id: a typo must fail before any work, never become a verdict."""
    problems: list[str] = []
    for i, c in enumerate(cfg.claims):
        where = f"{path}: claim {c.id!r} (claims[{i}])"
        spec = METRICS.get(c.metric) if c.metric else None
        for name, p in (spec.params.items() if spec else []):
            if p.refers_to is None or name not in c.params:
                continue
            known = phrases if p.refers_to == "phrase" else entities
            values = c.params[name] if isinstance(c.params[name], list) else [c.params[name]]
            for v in values:
                if v not in known:
                    problems.append(
                        f"{where}, field 'params.{name}': unknown {p.refers_to} id {v!r} "
                        f"(not in analysis/lexicon.yaml){nearest(v, known)}"
                    )
        for fld in ("source_ids", "exclude_source_ids"):
            for v in getattr(c.scope, fld):
                if v not in sources:
                    problems.append(
                        f"{where}, field 'scope.{fld}': unknown source id {v!r} "
                        f"(not in analysis/catalog.yaml){nearest(v, sources)}"
                    )
    if problems:
        raise ConfigError("\n".join(problems))
