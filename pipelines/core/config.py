"""Validated configuration: analysis/catalog.yaml (and the loader the other YAML files share).

Every YAML file under analysis/ is validated by a pydantic model. A bad entry fails with a
``ConfigError`` that names the file, the entry (by its id when it has one) and the field.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
import types
import typing
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.core.ids import check_safe_id, is_youtube_id
from pipelines.core.periods import coerce_partial_date

SourceKind = Literal["video", "podcast", "blog_post", "blog_feed", "tweet_archive", "paper", "repo"]

# Which document kind a catalog source kind produces.
DOC_KIND_OF_SOURCE = {
    "video": "video",
    "podcast": "podcast",
    "blog_post": "blog_post",
    "blog_feed": "blog_post",
    "tweet_archive": "tweet",
    "paper": "paper",
    "repo": "repo",
}


class ConfigError(ValueError):
    """A configuration file is missing, not YAML, or fails validation."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    id: str
    kind: SourceKind
    title: str
    # A full date, or a month ("2025-02") / year ("2011") when that is all the profile gives.
    date: str | None = None
    url: str | None = None
    youtube_id: str | None = None
    # False when the id comes only from weak third-party evidence (the profile gives none).
    id_confirmed: bool = True
    feed_url: str | None = None
    arxiv_id: str | None = None
    github_repo: str | None = None
    # Channel/blog a post belongs to (e.g. "github_io", "bearblog", "medium").
    collection: str | None = None
    claimed_words: int | None = Field(default=None, ge=0)
    claimed_items: int | None = Field(default=None, ge=0)
    # Named in the profile (as opposed to added by us to complete the catalog).
    in_profile: bool = True
    known_gap: bool = False
    # Extra titles / URLs under which a dropped file may name this source.
    aliases: list[str] = Field(default_factory=list)
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_safe_id(v)

    @field_validator("youtube_id")
    @classmethod
    def _youtube_id(cls, v: str | None) -> str | None:
        if v is not None and not is_youtube_id(v):
            raise ValueError(f"{v!r} is not an 11-character YouTube video id")
        return v

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: Any) -> str | None:
        return coerce_partial_date(v)

    @field_validator("github_repo")
    @classmethod
    def _repo(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", v):
            raise ValueError(f"{v!r} is not owner/name")
        return v

    @property
    def doc_kind(self) -> str:
        return DOC_KIND_OF_SOURCE[self.kind]

    @property
    def date_start(self) -> _dt.date | None:
        """The first day the ``date`` field can mean."""
        if not self.date:
            return None
        parts = [int(p) for p in self.date.split("-")] + [1, 1]
        return date(parts[0], parts[1], parts[2])


class Thinker(Strict):
    """Who the corpus is of. Every name and handle here makes a document's author the thinker
    (``pipelines.core.authorship``): a post or video by anyone else is not their own words."""

    name: str = Field(min_length=1)
    twitter: str | None = None  # the X handle, without '@'
    github: str | None = None  # the GitHub user
    youtube_channel: str | None = None  # the channel's handle ("@name") or URL
    aliases: list[str] = Field(default_factory=list)

    @field_validator("twitter", "github")
    @classmethod
    def _handle(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^@?[A-Za-z0-9_.-]{1,39}$", v):
            raise ValueError(f"{v!r} is not a handle (letters, digits, '_', '.', '-')")
        return v.lstrip("@") if v else v

    @property
    def youtube_handle(self) -> str | None:
        """The channel's handle: "https://www.youtube.com/@name/videos" -> "name"."""
        if not self.youtube_channel:
            return None
        m = re.search(r"@([A-Za-z0-9_.-]+)", self.youtube_channel)
        return m.group(1) if m else None

    def names(self) -> list[str]:
        """The name, the handles and the aliases (what authorship and page titles match)."""
        return [n for n in [self.name, self.twitter, self.github, self.youtube_handle, *self.aliases] if n]


class Catalog(Strict):
    thinker: Thinker
    profile: str | None = None  # path of the profile being verified, relative to the project
    sources: list[Source]

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        seen: dict[str, int] = {}
        for i, s in enumerate(self.sources):
            if s.id in seen:
                raise ValueError(f"sources[{i}] id {s.id!r} repeats sources[{seen[s.id]}]")
            seen[s.id] = i
        yt: dict[str, str] = {}
        for s in self.sources:
            if s.youtube_id:
                if s.youtube_id in yt:
                    raise ValueError(f"youtube_id {s.youtube_id} is on both {yt[s.youtube_id]!r} and {s.id!r}")
                yt[s.youtube_id] = s.id
        return self

    def by_id(self) -> dict[str, Source]:
        return {s.id: s for s in self.sources}


M = TypeVar("M", bound=BaseModel)


def _describe_location(data: Any, loc: tuple[Any, ...]) -> str:
    """Turn a pydantic error location into "entry 'id' (sources[3]), field 'x'"."""
    parts: list[str] = []
    node = data
    entry = None
    for i, key in enumerate(loc):
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            item = node[key]
            label = f"{loc[i - 1]}[{key}]" if i else f"[{key}]"
            if isinstance(item, dict) and "id" in item:
                entry = f"entry {item['id']!r} ({label})"
            else:
                entry = f"entry {label}"
            node = item
        elif isinstance(node, dict) and key in node:
            node = node[key]
            parts.append(str(key))
        else:
            parts.append(str(key))
    field = ".".join(p for p in parts if not (entry and p in entry.split("(")[-1]))
    where = entry or "top level"
    return f"{where}, field {field!r}" if field else where


def nearest(value: str, known: typing.Iterable[str]) -> str:
    """"; did you mean 'x'?" for the closest of ``known`` to a mistyped ``value``, or ""."""
    near = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


def _model_in(annotation: Any, index: bool) -> Any:
    """The type inside Optional[...] / Union / list[...] / dict[str, ...] that a location step enters."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                return _model_in(arg, index)
    if origin in (list, tuple, set, frozenset) and index:
        args = typing.get_args(annotation)
        return args[0] if args else Any
    if origin is dict:
        args = typing.get_args(annotation)
        return args[1] if len(args) == 2 else Any
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0], index)
    return annotation


def _type_at(model: Any, loc: tuple[Any, ...]) -> Any:
    """The declared type at a pydantic error location (None when it cannot be followed)."""
    t: Any = model
    for key in loc:
        if isinstance(key, int):
            t = _model_in(t, True)
            continue
        t = _model_in(t, False)
        if isinstance(t, type) and issubclass(t, BaseModel) and key in t.model_fields:
            t = t.model_fields[key].annotation
        else:
            return None
    return _model_in(t, False)


def error_message(err: Any, model: type[BaseModel]) -> str:
    """What a pydantic error says, in the analyst's words: an unknown field names the nearest
    valid field, a value outside a fixed list names the nearest allowed value."""
    loc = tuple(err.get("loc") or ())
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    kind = err.get("type")
    if kind == "extra_forbidden" and loc and isinstance(loc[-1], str):
        parent = _type_at(model, loc[:-1])
        known = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        return f"unknown field {loc[-1]!r}{nearest(loc[-1], known)}" + (
            f" (allowed: {', '.join(known)})" if known and not nearest(loc[-1], known) else ""
        )
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        value = err.get("input")
        hint = nearest(value, allowed) if isinstance(value, str) else ""
        return f"{value!r} is not one of {', '.join(allowed)}{hint}" if allowed else msg
    if kind == "missing":
        return "required field is missing"
    return msg


Where = Callable[[Any, tuple[Any, ...]], str]
# libyaml's safe loader parses the same documents ~10x faster than the pure-Python one (claims.yaml
# alone took 1.1 s on every load of the code location).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_LOADED: OrderedDict[tuple[Any, ...], BaseModel] = OrderedDict()  # (path, model, where, text) -> model
_LOADED_MAX = 64


def load_yaml_model(path: Path, model: type[M], where: Where | None = None) -> M:
    """Load and validate a YAML file, raising ConfigError naming file, entry and field.

    ``where(data, loc)`` words an error's location ("entry 'x' (sources[3]), field 'url'"); the
    default names list entries by their ``id``. A file whose text was validated before in this
    process is not parsed again (a run loads the same files many times; the models are frozen)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: file not found") from e
    key = (str(path), model, where, raw)
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return cast(M, _LOADED[key])
    loaded = _parse_yaml_model(path, raw, model, where)
    _LOADED[key] = loaded
    while len(_LOADED) > _LOADED_MAX:
        _LOADED.popitem(last=False)
    return loaded


def _parse_yaml_model(path: Path, raw: str, model: type[M], where: Where | None) -> M:
    try:
        data = yaml.load(raw, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader (libyaml's when present)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where_ = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where_} is not valid YAML: {getattr(e, 'problem', e)}") from e
    if data is None:
        raise ConfigError(f"{path}: file is empty")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        describe = where or _describe_location
        lines = []
        for err in e.errors():
            msg = error_message(err, model)
            place = describe(data, tuple(err["loc"]))
            if msg.startswith("field ") and ", field " in place:  # the validator names the field itself
                place = place.split(", field ")[0]
            lines.append(f"{path}: {place}: {msg}")
        raise ConfigError("\n".join(lines)) from e


def load_catalog(path: Path) -> Catalog:
    return load_yaml_model(path, Catalog)
