"""`corpus init DIR`: a new project folder for another thinker, ready for `corpus run --project DIR`.

It writes a commented minimal ``analysis/`` (catalog.yaml with the thinker and the sources the
options name, lexicon.yaml, claims.yaml with a few claims any corpus can answer), an empty
``raw/inbox/``, the Dagster instance settings (``dagster.yaml``) and a ``.gitignore``. Nothing is
overwritten: a folder that already holds a catalog is refused. The layout and every file are
described in docs/new-thinker.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from pipelines.core.config import Thinker

SHIPPED_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"
_FALLBACK_DAGSTER_YAML = "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n"


class ScaffoldError(ValueError):
    """The options cannot make a project (bad handle or URL, or the folder is already a project)."""


@dataclass(frozen=True)
class NewThinker:
    name: str
    twitter: str | None = None
    github: str | None = None
    youtube_channel: str | None = None
    feeds: list[str] = field(default_factory=list)


def _q(value: str) -> str:
    """A YAML scalar for any string (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)


def slug(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return s or "x"


def _feed_sources(name: str, feeds: list[str]) -> list[str]:
    out, seen = [], set()
    for url in feeds:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ScaffoldError(f"--feed {url!r}: not an http(s) URL of a feed")
        host = parts.hostname.lower().removeprefix("www.")
        sid = "blog-" + slug(host)
        while sid in seen:
            sid += "-2"
        seen.add(sid)
        out.append(
            f"""  # The blog's feed: `corpus run` fetches it; a dropped copy of it (or of its posts) works offline.
  # Its posts are documents of this source: no entry per post is needed. Add a blog_post entry
  # only for a post the profile names (to give it a date, a title, the profile's figures).
  - id: {sid}
    kind: blog_feed
    title: {_q(f"{name}'s blog ({host})")}
    url: {_q(f"{parts.scheme}://{parts.hostname}/")}
    feed_url: {_q(url)}
    collection: {slug(host).replace("-", "_")}
"""
        )
    return out


def catalog_yaml(t: NewThinker) -> str:
    thinker = [f"  name: {_q(t.name)}"]
    if t.twitter:
        thinker.append(f"  twitter: {t.twitter}")
    if t.github:
        thinker.append(f"  github: {t.github}")
    if t.youtube_channel:
        thinker.append(f"  youtube_channel: {_q(t.youtube_channel)}")
    thinker.append("  aliases: []   # other spellings of the name that mark a post or a speaker as theirs")
    sources = _feed_sources(t.name, t.feeds)
    if t.twitter:
        sources.append(
            f"""  # Posts on X come from dumps you drop into raw/inbox/ (an archive zip, CSV/JSON scrapes).
  # claimed_items / claimed_words: the profile's own figures, when it gives them.
  - id: tweets-{slug(t.twitter)}
    kind: tweet_archive
    title: {_q(f"Posts of @{t.twitter}")}
"""
        )
    body = "".join(sources) if sources else "  []\n"
    return f"""# The catalog of {t.name}: every source the profile names, plus what you add to complete it.
# Validated by pipelines/core/config.py; an error names this file, the entry and the field.
# Only metadata lives here (titles, dates, URLs, ids), never corpus text.
#
# A source: id (lower-case letters, digits, '-', '_', '.'; never reused), kind (video, podcast,
# blog_post, blog_feed, tweet_archive, paper, repo), title, and what identifies it: url,
# youtube_id, feed_url, arxiv_id or github_repo. Optional: date (quoted "2024", "2024-05" or
# "2024-05-01"), claimed_words / claimed_items (the profile's figures), in_profile (false: you
# added it, the profile does not name it), known_gap (the profile says it is not collected),
# collection, aliases (other titles or URLs a dropped file may give), notes.
# Every field is described in docs/new-thinker.md.

thinker:
{chr(10).join(thinker)}

# profile: profile.txt   # the profile claims.yaml checks, relative to this project

sources:
{body}
  # A talk on YouTube (youtube_id: the 11 characters after watch?v=):
  # - id: video-first-talk
  #   kind: video
  #   title: "The first talk"
  #   date: "2024-05-01"
  #   youtube_id: AAAAAAAAAAA
  #   claimed_words: 9000
  # A repository ({"its README is fetched" if t.github else "owner/name"}):
  # - id: repo-example
  #   kind: repo
  #   title: example
  #   github_repo: {t.github or "owner"}/example
"""


def lexicon_yaml(t: NewThinker) -> str:
    return f"""# What the analysis counts in {t.name}'s own words. Validated by pipelines/core/lexicon.py.
#
# phrases: tracked phrases. A form matches whole words, case-insensitively unless
#   case_sensitive: true; "vibe coding" also counts as "vibe-coding" (hyphen_variants, default
#   true). Plurals and inflections count only when listed.
# entities: people, works, companies cited. aliases always count; weak_aliases only when the
#   sentence also holds a require_context word; a mention inside an exclude phrase never counts.
# A claim's `phrase:` / `entity:` must be an id from this file (checked before every run).

phrases: []
  # - id: example-phrase
  #   label: example phrase
  #   forms: ["example phrase", "example phrases"]

entities: []
  # - id: some-person
  #   name: Some Person
  #   type: person          # person, work, game, company or concept
  #   aliases: ["Some Person"]
"""


def claims_yaml(t: NewThinker) -> str:
    kinds = []
    if t.feeds:
        kinds.append(("blog-posts", "blog_post", "blog posts"))
    if t.twitter:
        kinds.append(("tweets", "tweet", "posts on X"))
    per_kind = "".join(
        f"""
  - id: {cid}
    section: Starter
    quote: {_q(f"{t.name} has {noun} in the corpus")}
    type: corpus_size
    metric: documents
    comparator: ge
    expected: 1
    scope: {{kinds: [{kind}]}}
"""
        for cid, kind, noun in kinds
    )
    return f"""# The checkable claims about {t.name}, each with the profile's own words. Validated by
# pipelines/core/claims/config.py before every run; evaluated into the `claims` table.
# How a verdict is reached: docs/claims.md. The claims below are starters: replace them with the
# profile's.
#
# A claim: id, section, quote (the profile's words), type (corpus_size, composition, arithmetic,
# phrase_count, citation, date, quote, coverage, known_gap, not_checkable), metric (documents,
# words, phrase_documents, entity_documents, phrase_first_use, quote_match, profile_sum, ...),
# params (phrase / entity ids from lexicon.yaml), comparator (eq, ge, le, gt, lt, approx with
# tolerance, before, after, within), expected, scope (kinds, source_ids, date_from, date_to,
# own_only, ...); reason for a not_checkable claim.

# as_of: 2026-03   # the month the profile speaks for: later documents are never used against it

claims:
  - id: own-documents
    section: Starter
    quote: {_q(f"The corpus holds {t.name}'s own words")}
    type: corpus_size
    metric: documents
    comparator: ge
    expected: 1
{per_kind}
  - id: own-words
    section: Starter
    quote: {_q(f"At least 1,000 words by {t.name}")}
    type: corpus_size
    metric: words
    comparator: ge
    expected: 1000

  # A phrase claim, once lexicon.yaml tracks the phrase:
  # - id: example-phrase-posts
  #   section: Header
  #   quote: "says 'example phrase' in 3 posts"
  #   type: phrase_count
  #   metric: phrase_documents
  #   params: {{phrase: example-phrase}}
  #   comparator: ge
  #   expected: 3
  #   scope: {{kinds: [blog_post]}}
"""


GITIGNORE = """# What `corpus run` writes (rebuilt from raw/ at any time), and the Dagster instance's state.
warehouse/
reports/
.dagster_home/
.tmp_dagster_home_*/
raw/store/
raw/manifest.jsonl
"""


def check_options(t: NewThinker) -> None:
    try:
        Thinker(name=t.name, twitter=t.twitter, github=t.github, youtube_channel=t.youtube_channel)
    except ValidationError as e:
        err = e.errors()[0]
        opt = {"name": "--thinker", "youtube_channel": "--youtube-channel"}.get(str(err["loc"][0]), f"--{err['loc'][0]}")
        raise ScaffoldError(f"{opt}: {str(err['msg']).removeprefix('Value error, ')}") from None
    _feed_sources(t.name, t.feeds)


def write_project(root: Path, t: NewThinker) -> list[Path]:
    """Write the new project's files under ``root``; returns them. Refuses an existing project."""
    check_options(t)
    catalog = root / "analysis" / "catalog.yaml"
    if catalog.exists():
        raise ScaffoldError(f"{root} is already a project ({catalog} exists); nothing was written")
    files = {
        catalog: catalog_yaml(t),
        root / "analysis" / "lexicon.yaml": lexicon_yaml(t),
        root / "analysis" / "claims.yaml": claims_yaml(t),
        root / ".gitignore": GITIGNORE,
        root / "dagster.yaml": (
            SHIPPED_DAGSTER_YAML.read_text(encoding="utf-8") if SHIPPED_DAGSTER_YAML.exists() else _FALLBACK_DAGSTER_YAML
        ),
    }
    written = []
    for path, text in files.items():
        if path.exists():
            continue  # a .gitignore or dagster.yaml of the user's own is kept
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    (root / "raw" / "inbox").mkdir(parents=True, exist_ok=True)
    return written
