"""Deterministic synthetic corpora in the formats the parsers read, with planted phrases and citations.

    uv run python bench/generate.py --scale 1 --out bench/out/x1

writes a project folder (``analysis/`` + ``raw/inbox/`` + ``dagster.yaml``) and
``expected.json``: the exact counts the pipeline must produce in ``phrase_frequencies`` and
``citation_tallies`` (own documents, all time), per kind and in all.

Scale 1 is the profile's corpus (~553K words): 756 tweets in an X archive ``data/tweets.js``,
35 Jekyll posts (``_posts/YYYY-MM-DD-slug.markdown``), 18 video transcripts (14
youtube-transcript-api JSON ``<id>.youtube-transcript.json``, 4 WebVTT ``<slug>_<id>.vtt``, plus
2 VTT copies of JSON videos that dedup must drop), 5 paper texts (``papers/*.txt``) and an RSS
``feed.xml`` (10 entries: 5 new posts, 5 that repeat Jekyll posts). Scale k multiplies the
number of files (a bigger corpus, same-sized files); tweets are split into archive parts of at
most 5,000 (``tweets-part1.js``...).

Text: words drawn from spaCy's English unigram probabilities (spacy-lookups-data
``en_lexeme_prob``: a real Zipfian distribution over 30,000 words), in sentences of varied length
with commas, capitals and . ? !, grouped in paragraphs. Auto-generated captions are lower case
and unpunctuated (the pipeline's caption mode). Every word that belongs to a lexicon form, alias,
exclusion or context word (bar stop words) is left out of the vocabulary, so the background text
can never produce a tracked phrase or a citation; the only hits are the planted units, whose
counts are recorded as they are placed. Decoys (``Nikola Tesla``, ``Turing complete``, a lone
``Darwin`` without context, ``scratchpad``, lower-case ``exhalation``...) and retweets carrying
phrases check that what must not count does not.

Each file has its own seeded random stream (seed, kind, index), so output is identical across
runs and machines with the locked package versions; files are written one at a time (100x never
holds the corpus in memory).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import re
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
SEED = 7_553_000
VOCAB_SIZE = 30_000
TWEETS_PER_PART = 5_000
HANDLE = "benchthinker"

# The profile's corpus at scale 1.
BASE_COUNTS = {
    "tweets": 756,
    "posts": 35,
    "json_transcripts": 14,
    "vtt_transcripts": 4,
    "dup_vtt": 2,
    "papers": 5,
    "feed_new": 5,
    "feed_dup": 5,
}
MEAN_WORDS = {"post": 4_300, "transcript": 19_900, "paper": 3_400, "feed": 2_800}
RETWEET_SHARE = 0.05
TWEET_PLANT_P = 0.35

# --------------------------------------------------------------------------- planted units


@dataclass(frozen=True)
class Unit:
    """A string planted verbatim, and what it must add to the counts."""

    text: str
    rate: float  # per 10,000 words in long documents; relative weight in tweets
    phrases: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    lower_ok: bool = True  # may be planted lower-cased (auto captions)
    punct_only: bool = False  # needs real sentences (weak alias + context word)
    tweet_alone: bool = False  # only in a tweet that holds nothing else (sentence-level decoy)


UNITS: list[Unit] = [
    # tracked phrases
    Unit("from scratch", 1.0, phrases=("from-scratch",)),
    Unit("from-scratch", 0.2, phrases=("from-scratch",)),
    Unit("From Scratch", 0.1, phrases=("from-scratch",)),
    Unit("vibe coding", 0.5, phrases=("vibe-coding",)),
    Unit("vibe-coded", 0.1, phrases=("vibe-coding",)),
    Unit("jagged intelligence", 0.2, phrases=("jagged-intelligence",)),
    Unit("Software 2.0", 0.3, phrases=("software-2.0",)),
    Unit("System 2", 0.2, phrases=("system-2",)),
    Unit("bicycle for the mind", 0.1, phrases=("bicycle-for-the-mind",)),
    Unit("cognitive core", 0.15, phrases=("cognitive-core",)),
    Unit("LLM OS", 0.2, phrases=("llm-os",)),
    Unit("autonomy slider", 0.1, phrases=("autonomy-slider",)),
    Unit("Iron Man suits", 0.1, phrases=("iron-man-suit",)),
    Unit("decade of agents", 0.1, phrases=("decade-of-agents",)),
    Unit("autoresearch", 0.05, phrases=("autoresearch",)),
    Unit("verifiability", 0.1, phrases=("verifiability",)),
    Unit("speciation", 0.05, phrases=("speciation",)),
    Unit("working memory", 0.3, phrases=("working-memory",)),
    Unit("data engine", 0.1, phrases=("data-engine",)),
    Unit("skill issue", 0.05, phrases=("skill-issue",)),
    Unit("zero to hero", 0.1, phrases=("zero-to-hero",)),
    Unit("micrograd", 0.3, phrases=("micrograd",)),
    Unit("nanoGPT", 0.3, phrases=("nanogpt",)),
    Unit("llm.c", 0.1, phrases=("llm-c",)),
    Unit("coral reef", 0.02, phrases=("coral-reef",)),
    Unit("test-time training", 0.05, phrases=("test-time-training",)),
    Unit("lossy zip file", 0.05, phrases=("lossy-zip-file",)),
    Unit("hottest new programming language", 0.02, phrases=("hottest-programming-language",)),
    Unit("power to the people", 0.02, phrases=("power-to-the-people",)),
    # a phrase and an entity at once
    Unit("Factorio", 0.05, phrases=("factorio",), entities=("factorio",)),
    # citations
    Unit("Licklider", 0.05, entities=("licklider",)),
    Unit("Man-Computer Symbiosis", 0.02, entities=("man-computer-symbiosis",)),
    Unit("Feynman", 0.1, entities=("feynman",)),
    Unit("Kahneman", 0.05, entities=("kahneman",)),
    Unit("Simon Willison", 0.05, entities=("simon-willison",)),
    Unit("Elon Musk", 0.1, entities=("elon-musk",)),
    Unit("Alan Kay", 0.03, entities=("alan-kay",)),
    Unit("Tolkien", 0.03, entities=("tolkien",)),
    Unit("Asimov", 0.03, entities=("asimov",)),
    Unit("Hinton", 0.1, entities=("geoffrey-hinton",)),
    Unit("OpenAI", 0.4, entities=("openai",)),
    Unit("Tesla", 0.3, entities=("tesla",)),
    Unit("NVIDIA", 0.2, entities=("nvidia",)),
    Unit("Dwarkesh", 0.05, entities=("dwarkesh-patel",)),
    Unit("Turing", 0.1, entities=("alan-turing",)),
    Unit("Engelbart", 0.01, entities=("engelbart",)),
    Unit("Bitter Lesson", 0.05, entities=("bitter-lesson",)),
    Unit("AlphaGo", 0.05, entities=("alphago",)),
    Unit("Shannon entropy", 0.02, entities=("shannon",)),
    Unit("Exhalation", 0.01, entities=("exhalation",), lower_ok=False),  # case-sensitive title
    Unit("Darwin on evolution", 0.02, entities=("darwin",), lower_ok=False, punct_only=True),
    # decoys: must add nothing
    Unit("Nikola Tesla", 0.03),  # exclude phrase of tesla
    Unit("Turing complete", 0.03),  # exclude phrase of alan-turing
    Unit("Darwin kernel", 0.02),  # exclude phrase of darwin
    Unit("Kay", 0.03),  # not an alias of alan-kay
    Unit("scratchpad", 0.05),  # not from-scratch
    Unit("exhalation", 0.02),  # lower case: the case-sensitive entity does not count
    Unit("Software 2", 0.03),  # without ".0"
    Unit("Darwin", 0.5, tweet_alone=True),  # weak alias without a context word in its sentence
]

# --------------------------------------------------------------------------- vocabulary


def _form_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def lexicon_words(lexicon: dict[str, Any]) -> tuple[set[str], list[str]]:
    """(every token of every phrase form / alias / handle / exclusion / context word, all the forms)."""
    forms: list[str] = []
    for p in lexicon.get("phrases", []):
        forms += list(p.get("forms", []))
    for e in lexicon.get("entities", []):
        for key in ("aliases", "weak_aliases", "exclude", "require_context", "handles"):
            forms += list(e.get(key, []) or [])
    toks: set[str] = set()
    for f in forms:
        toks.update(_form_tokens(f))
    return toks, forms


class Vocab:
    """Zipfian word sampler over spaCy's English unigram probabilities, lexicon words removed."""

    CAP, COMMA, PERIOD, QUESTION, BANG = 1, 2, 3, 4, 5

    def __init__(self, lexicon: dict[str, Any], size: int = VOCAB_SIZE) -> None:
        import spacy_lookups_data
        from spacy.lang.en.stop_words import STOP_WORDS

        path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
        with gzip.open(path, "rt", encoding="utf-8") as f:
            probs: dict[str, float] = json.load(f)
        lex_tokens, forms = lexicon_words(lexicon)
        banned = {t for t in lex_tokens if t not in STOP_WORDS} | {"rt", "http", "https", "www"}
        # A form made only of stop words could appear by chance: ban its longest word too.
        for f in forms:
            toks = _form_tokens(f)
            if toks and not any(t in banned for t in toks):
                banned.add(max(toks, key=len))
        words = [
            w
            for w, _ in sorted(probs.items(), key=lambda kv: (-kv[1], kv[0]))
            if re.fullmatch(r"[a-z]{1,14}", w) and w not in banned
        ]
        words = words[:size]
        logp = np.array([probs[w] for w in words], dtype=np.float64)
        p = np.exp(logp - logp.max())
        self.cdf = np.cumsum(p / p.sum())
        self.words = words
        self.banned = banned
        self.n = len(words)
        variants = (
            words
            + [w.capitalize() for w in words]
            + [w + "," for w in words]
            + [w + "." for w in words]
            + [w + "?" for w in words]
            + [w + "!" for w in words]
        )
        self.table = np.array(variants, dtype=object)
        self.stop = sorted(STOP_WORDS)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf, rng.random(n)), self.n - 1)

    def lower_tokens(self, rng: np.random.Generator, n: int) -> list[str]:
        return self.table[self.sample(rng, n)].tolist()

    def sentences(self, rng: np.random.Generator, n: int) -> tuple[list[str], list[int]]:
        """n word tokens in sentences (capital first word, final . ? !, some commas).

        Returns the tokens and the token indices at which a sentence ends (exclusive).
        """
        idx = self.sample(rng, n)
        m = n // 2 + 8
        lens = np.clip(np.round(rng.lognormal(2.6, 0.45, m)), 3, 45).astype(np.int64)
        ends = np.cumsum(lens)
        k = int(np.searchsorted(ends, n, side="left"))
        ends = ends[: k + 1]
        ends[-1] = n
        if len(ends) > 1 and ends[-1] - ends[-2] < 3:  # no stub sentence at the end
            ends = np.delete(ends, -2)
        starts = np.concatenate([[0], ends[:-1]])
        variant = np.zeros(n, dtype=np.int64)
        commas = rng.random(n) < 0.06
        variant[commas] = self.COMMA
        variant[starts] = self.CAP
        finals = rng.choice([self.PERIOD, self.QUESTION, self.BANG], size=len(ends), p=[0.86, 0.1, 0.04])
        variant[ends - 1] = finals
        toks = self.table[idx + self.n * variant].tolist()
        return toks, ends.tolist()


# --------------------------------------------------------------------------- counting


@dataclass
class Expected:
    """What the pipeline must count (own documents), per kind and in all ('*')."""

    phrase_hits: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    phrase_docs: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    entity_mentions: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    entity_docs: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    documents: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    own_documents: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    words: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    planted: int = 0
    planted_not_own: int = 0
    decoys: int = 0

    def add(self, doc_key: str, kind: str, units: list[Unit], *, own: bool = True) -> None:
        for u in units:
            if not (u.phrases or u.entities):
                self.decoys += 1
                continue
            if not own:
                self.planted_not_own += 1
                continue
            self.planted += 1
            for k in (kind, "*"):
                for p in u.phrases:
                    self.phrase_hits[p][k] += 1
                    self.phrase_docs[p][k].add(doc_key)
                for e in u.entities:
                    self.entity_mentions[e][k] += 1
                    self.entity_docs[e][k].add(doc_key)

    def document(self, kind: str, words: int, own: bool = True) -> None:
        self.documents[kind] += 1
        if own:
            self.own_documents[kind] += 1
            self.words[kind] += words

    def to_json(self, lexicon: dict[str, Any]) -> dict[str, Any]:
        kinds = sorted(self.own_documents) + ["*"]
        phrases = {}
        for p in lexicon.get("phrases", []):
            pid = p["id"]
            phrases[pid] = {
                k: {"hits": self.phrase_hits[pid][k], "documents": len(self.phrase_docs[pid][k])}
                for k in kinds
            }
        entities = {}
        for e in lexicon.get("entities", []):
            eid = e["id"]
            entities[eid] = {
                k: {"mentions": self.entity_mentions[eid][k], "documents": len(self.entity_docs[eid][k])}
                for k in kinds
            }
        return {
            "documents": dict(sorted(self.documents.items())),
            "own_documents": dict(sorted(self.own_documents.items())),
            "words_generated": dict(sorted(self.words.items())),
            "planted_units": self.planted,
            "planted_units_not_own": self.planted_not_own,
            "decoys": self.decoys,
            "phrases": phrases,
            "entities": entities,
        }


# --------------------------------------------------------------------------- planting


def _rng(seed: int, *parts: Any) -> np.random.Generator:
    h = hashlib.sha256(("|".join(str(p) for p in (seed, *parts))).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def choose_units(rng: np.random.Generator, n_words: int, *, lower: bool, punct: bool) -> list[Unit]:
    out: list[Unit] = []
    for u in UNITS:
        if u.tweet_alone or (lower and not u.lower_ok) or (u.punct_only and not punct):
            continue
        k = int(rng.poisson(u.rate * n_words / 10_000))
        out += [u] * k
    rng.shuffle(out)  # type: ignore[arg-type]
    return out


def plant(rng: np.random.Generator, toks: list[str], units: list[Unit], *, lower: bool) -> list[Unit]:
    """Attach each unit to a distinct gap between tokens (so two units never touch), in place.

    Returns the units planted (all of them unless there are more units than gaps).
    """
    n = len(toks)
    if not units or n == 0:
        return []
    units = units[: n + 1]
    pos = rng.choice(n + 1, size=len(units), replace=False)
    for p, u in zip(pos.tolist(), units, strict=True):
        text = u.text.lower() if lower else u.text
        if p == 0:
            toks[0] = f"{text} {toks[0]}"
        else:
            toks[p - 1] = f"{toks[p - 1]} {text}"
    return units


def _words(rng: np.random.Generator, mean: int) -> int:
    return max(200, int(rng.lognormal(math.log(mean) - 0.08, 0.4)))


def _title(vocab: Vocab, rng: np.random.Generator, n: int = 5) -> str:
    idx = vocab.sample(rng, n)
    return " ".join(vocab.words[i].capitalize() for i in idx.tolist())


def _word_count(text: str) -> int:
    return len(re.findall(r"\w+(?:['’\-]\w+)*", text))


# --------------------------------------------------------------------------- the corpus


def counts_for(scale: float) -> dict[str, int]:
    out = {k: max(1, round(v * scale)) for k, v in BASE_COUNTS.items()}
    out["dup_vtt"] = min(out["dup_vtt"], out["json_transcripts"])
    out["feed_dup"] = min(out["feed_dup"], out["posts"])
    return out


def _video_id(i: int) -> str:
    h = hashlib.sha256(f"video-{i}".encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    # letters and digits only: no '_' or '-' so file names parse one way
    return "".join(alphabet[b % len(alphabet)] for b in h[:11])


def _ts(seconds: float) -> str:
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


class Generator:
    def __init__(self, out: Path, scale: float, seed: int = SEED) -> None:
        self.out = out
        self.scale = scale
        self.seed = seed
        self.lexicon = yaml.safe_load((REPO / "analysis" / "lexicon.yaml").read_text(encoding="utf-8"))
        self._check_units()
        self.vocab = Vocab(self.lexicon)
        self.counts = counts_for(scale)
        self.exp = Expected()
        self.inbox = out / "raw" / "inbox"
        self.sources: list[dict[str, Any]] = []
        self.files = 0
        self.bytes = 0

    def _check_units(self) -> None:
        pids = {p["id"] for p in self.lexicon.get("phrases", [])}
        eids = {e["id"] for e in self.lexicon.get("entities", [])}
        for u in UNITS:
            missing = [p for p in u.phrases if p not in pids] + [e for e in u.entities if e not in eids]
            if missing:
                raise SystemExit(
                    f"generate: planted unit {u.text!r} names ids not in analysis/lexicon.yaml: {missing}"
                )

    def _write(self, rel: str, text: str) -> None:
        path = self.inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        self.files += 1
        self.bytes += len(data)

    # -- long texts

    def paragraphs(
        self, rng: np.random.Generator, n: int, extra: list[Unit] | None = None
    ) -> tuple[list[str], list[Unit]]:
        toks, ends = self.vocab.sentences(rng, n)
        units = choose_units(rng, n, lower=False, punct=True) + list(extra or [])
        units = plant(rng, toks, units, lower=False)
        paras: list[str] = []
        start = 0
        i = 0
        while i < len(ends):
            k = int(rng.integers(2, 8))
            end = ends[min(i + k, len(ends)) - 1]
            paras.append(" ".join(toks[start:end]))
            start = end
            i += k
        return paras, units

    def caption_tokens(self, rng: np.random.Generator, n: int, *, auto: bool) -> tuple[list[str], list[Unit]]:
        if auto:
            toks = self.vocab.lower_tokens(rng, n)
            units = plant(rng, toks, choose_units(rng, n, lower=True, punct=False), lower=True)
        else:
            toks, _ = self.vocab.sentences(rng, n)
            units = plant(rng, toks, choose_units(rng, n, lower=False, punct=True), lower=False)
        return " ".join(toks).split(" "), units

    @staticmethod
    def cues(rng: np.random.Generator, words: list[str]) -> list[tuple[float, float, str]]:
        out: list[tuple[float, float, str]] = []
        i, t = 0, 0.0
        sizes = rng.integers(6, 15, size=len(words) // 6 + 2).tolist()
        j = 0
        while i < len(words):
            k = sizes[j]
            j += 1
            text = " ".join(words[i : i + k])
            if out and out[-1][2] == text:  # rolling-caption merge would drop it: never repeat
                k += 1
                text = " ".join(words[i : i + k])
            dur = round(0.35 * k + float(rng.random()), 3)
            gap = 1.2 if rng.random() < 0.08 else 0.0
            out.append((round(t, 3), dur, text))
            t += dur + gap
            i += k
        return out

    # -- formats

    def tweets(self) -> None:
        n = self.counts["tweets"]
        start = datetime(2022, 11, 1, tzinfo=UTC)
        span = (datetime(2026, 3, 31, tzinfo=UTC) - start).total_seconds()
        all_units = [u for u in UNITS if not u.punct_only]
        weights = np.array([u.rate for u in all_units], dtype=np.float64)
        weights /= weights.sum()
        parts = max(1, math.ceil(n / TWEETS_PER_PART))
        for part in range(parts):
            lo, hi = part * TWEETS_PER_PART, min(n, (part + 1) * TWEETS_PER_PART)
            rng = _rng(self.seed, "tweets", part)
            times = np.sort(rng.random(hi - lo) * span)
            recs: list[str] = []
            for j, i in enumerate(range(lo, hi)):
                wn = int(np.clip(rng.lognormal(3.2, 0.55), 3, 55))
                toks, _ = self.vocab.sentences(rng, wn)
                units: list[Unit] = []
                if rng.random() < TWEET_PLANT_P:
                    units = [all_units[int(rng.choice(len(all_units), p=weights))]]
                units = plant(rng, toks, units, lower=False)
                text = " ".join(toks)
                if rng.random() < 0.03:  # an HTML entity, as the archive writes '&'
                    text += " &amp; " + self.vocab.words[int(self.vocab.sample(rng, 1)[0])]
                urls: list[dict[str, str]] = []
                if rng.random() < 0.12:
                    code = hashlib.sha256(f"{i}".encode()).hexdigest()[:10]
                    urls = [
                        {
                            "url": f"https://t.co/{code}",
                            "expanded_url": f"https://example.org/post/{i}",
                            "display_url": f"example.org/post/{i}",
                        }
                    ]
                    text += f" https://t.co/{code}"
                retweet = rng.random() < RETWEET_SHARE
                reply = not retweet and rng.random() < 0.2
                if retweet:
                    text = f"RT @user{int(rng.integers(1, 999))}: {text}"
                elif reply:
                    text = f"@user{int(rng.integers(1, 999))} {text}"
                tid = str(1_590_000_000_000_000_000 + i * 7_919 + 13)
                created = start + timedelta(seconds=float(times[j]))
                tw: dict[str, Any] = {
                    "edit_info": {
                        "initial": {
                            "editTweetIds": [tid],
                            "editableUntil": created.isoformat(),
                            "editsRemaining": "5",
                            "isEditEligible": True,
                        }
                    },
                    "retweeted": False,
                    "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
                    "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": urls},
                    "display_text_range": ["0", str(len(text))],
                    "favorite_count": str(int(rng.integers(0, 5000))),
                    "id_str": tid,
                    "truncated": False,
                    "retweet_count": str(int(rng.integers(0, 800))),
                    "id": tid,
                    "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                    "favorited": False,
                    "full_text": text,
                    "lang": "en",
                }
                if reply:
                    tw["in_reply_to_status_id_str"] = str(1_500_000_000_000_000_000 + i)
                    tw["in_reply_to_screen_name"] = "someone"
                recs.append(json.dumps({"tweet": tw}, ensure_ascii=False, indent=2))
                key = f"tweet:{tid}"
                self.exp.document("tweet", _word_count(text), own=not retweet)
                self.exp.add(key, "tweet", units, own=not retweet)
            name = "data/tweets.js" if part == 0 else f"data/tweets-part{part}.js"
            body = f"window.YTD.tweets.part{part} = [ " + ",\n".join(recs) + " ]"
            self._write(name, body)
        self.sources.append(
            {
                "id": "tweets-bench",
                "kind": "tweet_archive",
                "title": f"Posts of @{HANDLE}",
                "date": "2022-11",
                "claimed_items": n,
            }
        )

    def posts(self) -> None:
        n = self.counts["posts"]
        dup = set(range(self.counts["feed_dup"]))
        feed_items: list[dict[str, Any]] = []
        for i in range(n):
            rng = _rng(self.seed, "post", i)
            day = datetime(2011, 1, 1, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 15 * 365)))
            title = f"Post {i:05d} {_title(self.vocab, rng)}"
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            url = f"https://bench.example.org/{day:%Y/%m/%d}/{slug}/"
            words = _words(rng, MEAN_WORDS["post"])
            paras, units = self.paragraphs(rng, words)
            body: list[str] = []
            for j, p in enumerate(paras):
                if j and j % 6 == 0:
                    body.append(f"## {_title(self.vocab, rng, 3)}")
                if j % 9 == 4:  # a link and some emphasis, as posts have
                    w = p.split(" ")
                    if len(w) > 6:
                        w[2] = f"[{w[2]}](https://example.org/ref/{i}/{j})"
                        w[5] = f"*{w[5]}*"
                        p = " ".join(w)
                body.append(p)
            fm = {
                "layout": "post",
                "comments": True,
                "title": title,
                "excerpt": f"Notes number {i}.",
                "date": day.strftime("%Y-%m-%d %H:%M:%S"),
                "mathjax": False,
            }
            text = "---\n" + yaml.safe_dump(fm, sort_keys=False) + "---\n\n" + "\n\n".join(body) + "\n"
            self._write(f"blog/_posts/{day:%Y-%m-%d}-{slug}.markdown", text)
            self.sources.append(
                {
                    "id": f"post-g{i:05d}",
                    "kind": "blog_post",
                    "title": title,
                    "date": f"{day:%Y-%m-%d}",
                    "url": url,
                    "collection": "bench_blog",
                }
            )
            key = f"post:{i}"
            self.exp.document("blog_post", sum(_word_count(p) for p in paras))
            self.exp.add(key, "blog_post", units)
            if i in dup:  # the feed repeats it (same text, as HTML): dedup keeps one document
                feed_items.append({"title": title, "url": url, "day": day, "paras": paras})
        for i in range(self.counts["feed_new"]):
            rng = _rng(self.seed, "feed", i)
            day = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 700)))
            title = f"Feed Post {i:05d} {_title(self.vocab, rng)}"
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            url = f"https://bench.example.org/{day:%Y/%m/%d}/{slug}/"
            paras, units = self.paragraphs(rng, _words(rng, MEAN_WORDS["feed"]))
            feed_items.append({"title": title, "url": url, "day": day, "paras": paras})
            self.sources.append(
                {
                    "id": f"feedpost-g{i:05d}",
                    "kind": "blog_post",
                    "title": title,
                    "date": f"{day:%Y-%m-%d}",
                    "url": url,
                    "collection": "bench_blog",
                }
            )
            self.exp.document("blog_post", sum(_word_count(p) for p in paras))
            self.exp.add(f"feed:{i}", "blog_post", units)
        items = []
        for it in sorted(feed_items, key=lambda x: x["day"], reverse=True):
            html = "".join(f"<p>{escape(p, quote=False)}</p>\n" for p in it["paras"])
            items.append(
                "  <item>\n"
                f"    <title>{escape(it['title'])}</title>\n"
                f"    <link>{it['url']}</link>\n"
                f'    <guid isPermaLink="true">{it["url"]}</guid>\n'
                f"    <pubDate>{format_datetime(it['day'])}</pubDate>\n"
                f"    <description>{escape(it['paras'][0][:200])}</description>\n"
                f"    <content:encoded><![CDATA[{html}]]></content:encoded>\n"
                "  </item>\n"
            )
        feed = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
            "<channel>\n  <title>Bench Thinker's blog</title>\n  <link>https://bench.example.org/</link>\n"
            "  <description>Synthetic benchmark feed</description>\n"
            + "".join(items)
            + "</channel>\n</rss>\n"
        )
        self._write("blog/feed.xml", feed)
        self.sources.append(
            {
                "id": "feed-bench",
                "kind": "blog_feed",
                "title": "Bench Thinker's blog (RSS)",
                "feed_url": "https://bench.example.org/feed.xml",
                "collection": "bench_blog",
            }
        )

    def transcripts(self) -> None:
        nj, nv, nd = self.counts["json_transcripts"], self.counts["vtt_transcripts"], self.counts["dup_vtt"]
        for i in range(nj + nv):
            rng = _rng(self.seed, "video", i)
            vid = _video_id(i)
            auto = i % 2 == 1
            words, units = self.caption_tokens(rng, _words(rng, MEAN_WORDS["transcript"]), auto=auto)
            cues = self.cues(rng, words)
            day = datetime(2022, 1, 1, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 4 * 365)))
            title = f"Lecture {i:05d} {_title(self.vocab, rng)}"
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]
            if i < nj:
                obj = {
                    "video_id": vid,
                    "language": "English" + (" (auto-generated)" if auto else ""),
                    "language_code": "en",
                    "is_generated": auto,
                    "snippets": [{"text": t, "start": s, "duration": d} for s, d, t in cues],
                }
                self._write(
                    f"transcripts/{vid}.youtube-transcript.json",
                    json.dumps(obj, ensure_ascii=False, indent=1),
                )
            if i >= nj or i < nd:  # a VTT of its own, or a second copy of a JSON video (dedup drops it)
                vtt = ["WEBVTT", "Kind: captions", "Language: en", ""]
                for s, d, t in cues:
                    vtt += [f"{_ts(s)} --> {_ts(s + d)}", t, ""]
                self._write(f"transcripts/vtt/{slug}_{vid}.vtt", "\n".join(vtt))
            self.sources.append(
                {
                    "id": f"video-g{i:05d}",
                    "kind": "video",
                    "title": title,
                    "date": f"{day:%Y-%m-%d}",
                    "youtube_id": vid,
                    "url": f"https://www.youtube.com/watch?v={vid}",
                }
            )
            self.exp.document("video", sum(_word_count(t) for _, _, t in cues))
            self.exp.add(f"video:{vid}", "video", units)

    def papers(self) -> None:
        for i in range(self.counts["papers"]):
            rng = _rng(self.seed, "paper", i)
            title = f"Paper {i:05d} {_title(self.vocab, rng, 4)}"
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            paras, units = self.paragraphs(rng, _words(rng, MEAN_WORDS["paper"]))
            heads = ["Abstract", "Introduction", "Method", "Experiments", "Conclusion"]
            body: list[str] = []
            for j, p in enumerate(paras):
                if j % max(1, len(paras) // len(heads)) == 0 and heads:
                    body.append(heads.pop(0))
                body.append(p)
            text = "\n\n".join(body) + "\n"
            self._write(f"papers/{slug}.txt", text)
            year = 2014 + i % 11
            self.sources.append(
                {
                    "id": f"paper-g{i:05d}",
                    "kind": "paper",
                    "title": title.replace("-", " "),
                    "date": str(year),
                }
            )
            self.exp.document("paper", _word_count(text))
            self.exp.add(f"paper:{i}", "paper", units)

    # -- project

    def project_files(self) -> None:
        a = self.out / "analysis"
        a.mkdir(parents=True, exist_ok=True)
        if (REPO / "analysis" / "lexicon.yaml").exists():
            shutil.copy(REPO / "analysis" / "lexicon.yaml", a / "lexicon.yaml")
        ids = {s["id"] for s in self.sources}
        # Source ids this synthetic catalog lacks are refused before a run, as a typo would be: the
        # profile's events keep only the sources the catalog has, and the claims only those it can serve.
        if (REPO / "analysis" / "eras.yaml").exists():
            eras = yaml.safe_load((REPO / "analysis" / "eras.yaml").read_text(encoding="utf-8"))
            for ev in eras.get("events") or []:
                ev["sources"] = [x for x in ev.get("sources") or [] if x in ids]
            (a / "eras.yaml").write_text(
                "# Generated by bench/generate.py from analysis/eras.yaml: events name only this catalog's sources.\n"
                + yaml.safe_dump(eras, sort_keys=False, width=200, allow_unicode=True),
                encoding="utf-8",
            )
        claims = yaml.safe_load((REPO / "analysis" / "claims.yaml").read_text(encoding="utf-8"))
        claims["claims"] = [
            c for c in claims["claims"]
            if set((c.get("scope") or {}).get("source_ids") or []) | set((c.get("scope") or {}).get("exclude_source_ids") or []) <= ids
        ]
        claims.pop("anchors", None)
        (a / "claims.yaml").write_text(
            "# Generated by bench/generate.py from analysis/claims.yaml: the claims whose sources this catalog has.\n"
            + yaml.safe_dump(claims, sort_keys=False, width=200, allow_unicode=True),
            encoding="utf-8",
        )
        catalog = {
            "thinker": {"name": "Bench Thinker", "twitter": HANDLE, "aliases": ["Bench Thinker"]},
            "sources": self.sources,
        }
        (a / "catalog.yaml").write_text(
            "# Generated by bench/generate.py: one entry per synthetic source.\n"
            + yaml.safe_dump(catalog, sort_keys=False, width=200),
            encoding="utf-8",
        )
        shutil.copy(REPO / "dagster.yaml", self.out / "dagster.yaml")

    def run(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        if self.inbox.exists():
            shutil.rmtree(self.inbox)
        self.tweets()
        self.posts()
        self.transcripts()
        self.papers()
        self.project_files()
        exp = self.exp.to_json(self.lexicon)
        total = sum(exp["words_generated"].values())
        info = {
            "scale": self.scale,
            "seed": self.seed,
            "counts": self.counts,
            "files": self.files,
            "bytes": self.bytes,
            "words_generated_own": total,
            "generate_seconds": round(time.perf_counter() - t0, 2),
            "generator_version": GENERATOR_VERSION,
            **exp,
        }
        (self.out / "expected.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
        return info


GENERATOR_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def extra_post(project: Path, index: int = 0, seed: int = SEED) -> dict[str, Any]:
    """One new Jekyll post (for the 'one new file' re-run). Writes it and returns its expected counts."""
    gen = Generator(project, 0.01, seed)
    rng = _rng(seed, "extra", index)
    day = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=index)
    title = f"Extra Post {index:03d} {_title(gen.vocab, rng)}"
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    # one of every countable unit besides the random ones, so the delta shows in every table
    extra = [u for u in UNITS if (u.phrases or u.entities) and not u.tweet_alone]
    paras, units = gen.paragraphs(rng, 4_000, extra)
    fm = {"layout": "post", "title": title, "date": day.strftime("%Y-%m-%d %H:%M:%S")}
    text = "---\n" + yaml.safe_dump(fm, sort_keys=False) + "---\n\n" + "\n\n".join(paras) + "\n"
    rel = f"bench-new/_posts/{day:%Y-%m-%d}-{slug}.markdown"
    path = project / "raw" / "inbox" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    gen.exp.document("blog_post", sum(_word_count(p) for p in paras))
    gen.exp.add(f"extra:{index}", "blog_post", units)
    return {"path": str(path), "words": sum(_word_count(p) for p in paras), **gen.exp.to_json(gen.lexicon)}


def generate(out: Path, scale: float, seed: int = SEED, *, force: bool = False) -> dict[str, Any]:
    """Generate (or reuse, when the same generator/scale/seed already wrote it) a project."""
    marker = out / "expected.json"
    if marker.exists() and not force:
        try:
            info = json.loads(marker.read_text())
            if (
                info.get("generator_version") == GENERATOR_VERSION
                and info.get("scale") == scale
                and info.get("seed") == seed
            ):
                extra = out / "raw" / "inbox" / "bench-new"
                if extra.exists():
                    shutil.rmtree(extra)
                return info
        except (OSError, ValueError):
            pass
    return Generator(out, scale, seed).run()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1 = the profile's corpus (~553K words)")
    ap.add_argument("--out", type=Path, required=True, help="project folder to write")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--force", action="store_true", help="regenerate even if the folder is up to date")
    args = ap.parse_args(argv)
    info = generate(args.out, args.scale, args.seed, force=args.force)
    print(
        f"scale {info['scale']}: {info['files']} files, {info['bytes'] / 1e6:.1f} MB, "
        f"{info['words_generated_own']:,} own words, {info['planted_units']} planted units, "
        f"{info['decoys']} decoys, in {info['generate_seconds']}s -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
