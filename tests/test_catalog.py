"""analysis/catalog.yaml: the shipped catalog holds every source the profile names, with the
YouTube ids confirmed in issue 2; bad entries fail naming the file, the entry and the field."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from conftest import real_corpus_dir

from pipelines.core.config import Catalog, ConfigError, Source, load_catalog

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "analysis" / "catalog.yaml"

# The ids issue 2 lists as confirmed from public sources, on the entry each belongs to.
ISSUE_2_YOUTUBE_IDS = {
    "video-micrograd": "VMj-3S1tku0",
    "video-makemore-1": "PaCmpygFfXo",
    "video-makemore-2": "TCH_1BHY58I",
    "video-makemore-3": "P6sfmUTpUmc",
    "video-makemore-4": "q8SA3rM6ckI",
    "video-makemore-5": "t3YJ5hKiMQ0",
    "video-lets-build-gpt": "kCc8FmEb1nY",
    "video-gpt-tokenizer": "zduSFxRajkE",
    "video-reproduce-gpt2": "l8pRSuU81PU",
    "video-state-of-gpt": "bZQun8Y4L2A",
    "video-intro-to-llms": "zjkBMFhNj_g",
    "video-deep-dive-llms": "7xTGNNLPyMI",
    "video-how-i-use-llms": "EWvNQjAaOHw",
    "video-yc-software-3": "LCEmiRjPEtQ",
    "podcast-lex-fridman-333": "cdiD-9MMpb0",
    "podcast-dwarkesh-2025": "lXUZvyajciY",
    "podcast-no-priors-2024": "hM_h0UA7upI",
    "podcast-no-priors-2026": "kwSVtQ7dziU",
    "podcast-sequoia-ascent-2024": "c3b-JASoPi0",
}

# The profile's own figures ("41K words", "756 tweets"), on the entry each belongs to.
CLAIMED_WORDS = {
    "video-deep-dive-llms": 41000,
    "video-how-i-use-llms": 25000,
    "video-reproduce-gpt2": 43000,
    "video-gpt-tokenizer": 25000,
    "video-lets-build-gpt": 21000,
    "video-micrograd": 24000,
    "video-state-of-gpt": 9000,
    "video-gpu-mode": 11000,
    "video-yc-software-3": 8000,
    "video-tesla-ai-day-2021": 47000,
    "video-tesla-ai-day-2022": 30000,
    "podcast-lex-fridman-333": 40000,
    "podcast-dwarkesh-2025": 27000,
    "podcast-no-priors-2026": 14000,
    "podcast-no-priors-2024": 11000,
    "podcast-sequoia-ascent-2024": 8000,
    "tweets-karpathy": 32000,
}

# The profile's "Known Gaps" list, in its order.
KNOWN_GAPS = [
    "gap-berkeley-ai-hackathon-2024",
    "gap-cs231n-lectures",
    "gap-medium-posts",
    "gap-blog-raw-text",
    "gap-phd-thesis",
    "gap-tweets-pre-2022",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


@pytest.fixture(scope="module")
def by_id(catalog: Catalog) -> dict[str, Source]:
    return catalog.by_id()


def of_kind(catalog: Catalog, kind: str, *, gaps: bool = False) -> list[Source]:
    return [s for s in catalog.sources if s.kind == kind and s.known_gap == gaps]


# ------------------------------------------------------------------ the shipped catalog


def test_shipped_catalog_loads_with_the_thinker_and_profile(catalog: Catalog) -> None:
    assert catalog.thinker.name == "Andrej Karpathy"
    assert catalog.thinker.twitter == "karpathy" and catalog.thinker.github == "karpathy"
    assert catalog.thinker.aliases
    assert catalog.profile == "../shared/seeds/000_1539336743cd0878.txt"
    assert len(catalog.sources) > 80


def test_every_issue_2_youtube_id_is_on_its_entry(by_id: dict[str, Source]) -> None:
    for sid, yid in ISSUE_2_YOUTUBE_IDS.items():
        assert by_id[sid].youtube_id == yid, sid
    # Only the Sequoia id rests on weak third-party evidence.
    unconfirmed = {s.id for s in by_id.values() if s.youtube_id and not s.id_confirmed}
    assert unconfirmed == {"podcast-sequoia-ascent-2024"}


def test_videos_without_a_profile_id_are_left_empty_and_say_so(by_id: dict[str, Source]) -> None:
    for sid in ("video-tesla-ai-day-2021", "video-tesla-ai-day-2022", "video-gpu-mode"):
        s = by_id[sid]
        assert s.kind == "video" and s.youtube_id is None, sid
        assert s.notes and "youtube_id is left empty" in s.notes, sid


def test_five_makemore_videos(catalog: Catalog) -> None:
    makemore = [s for s in catalog.sources if s.id.startswith("video-makemore-")]
    assert [s.id for s in makemore] == [f"video-makemore-{i}" for i in range(1, 6)]
    assert all(s.kind == "video" and "makemore" in s.title for s in makemore)
    assert len({s.youtube_id for s in makemore}) == 5
    assert [s.date_start for s in makemore] == sorted(s.date_start for s in makemore)  # type: ignore[type-var]
    # The profile gives 85K words for the five together, not per part: no single entry claims it.
    assert all(s.claimed_words is None and "85K" in (s.notes or "") for s in makemore)


def test_every_video_and_podcast_the_profile_lists(catalog: Catalog) -> None:
    videos = {s.id for s in of_kind(catalog, "video")}
    assert videos == {
        "video-micrograd",
        *(f"video-makemore-{i}" for i in range(1, 6)),
        "video-lets-build-gpt",
        "video-state-of-gpt",
        "video-intro-to-llms",
        "video-gpt-tokenizer",
        "video-reproduce-gpt2",
        "video-gpu-mode",
        "video-deep-dive-llms",
        "video-how-i-use-llms",
        "video-yc-software-3",
        "video-tesla-ai-day-2021",
        "video-tesla-ai-day-2022",
    }
    # Intro to LLMs is ours: the profile's list does not name it.
    assert [s.id for s in of_kind(catalog, "video") if not s.in_profile] == ["video-intro-to-llms"]
    podcasts = {s.id for s in of_kind(catalog, "podcast")}
    assert podcasts == {
        "podcast-lex-fridman-333",
        "podcast-dwarkesh-2025",
        "podcast-no-priors-2024",
        "podcast-no-priors-2026",
        "podcast-sequoia-ascent-2024",
    }


def test_claimed_figures_are_the_profiles(by_id: dict[str, Source]) -> None:
    for sid, words in CLAIMED_WORDS.items():
        assert by_id[sid].claimed_words == words, sid
    assert by_id["tweets-karpathy"].claimed_items == 756
    assert by_id["blog-github-io"].claimed_items == 23
    assert by_id["blog-bearblog"].claimed_items == 12


def test_twenty_one_repos(catalog: Catalog) -> None:
    repos = of_kind(catalog, "repo")
    assert len(repos) == 21
    names = [s.github_repo for s in repos]
    assert len(set(names)) == 21
    assert all(n and n.startswith("karpathy/") for n in names)
    for named in (
        "micrograd",
        "nanoGPT",
        "llm.c",
        "nanochat",
        "autoresearch",
        "llama2.c",
        "minbpe",
        "llm-council",
    ):
        repo = next(s for s in repos if s.github_repo == f"karpathy/{named}")
        assert repo.in_profile, named
        assert repo.url == f"https://github.com/karpathy/{named}"


def test_five_papers(catalog: Catalog) -> None:
    papers = of_kind(catalog, "paper")
    assert len(papers) == 5
    ids = [s.arxiv_id for s in papers]
    assert all(i and re.fullmatch(r"\d{4}\.\d{4,5}", i) for i in ids)
    assert len(set(ids)) == 5
    assert "1506.02078" in ids  # Visualizing and Understanding Recurrent Networks (abstract in the corpus)
    for p in papers:  # the arXiv id's YYMM is the paper's month
        assert p.date == f"20{p.arxiv_id[:2]}-{p.arxiv_id[2:4]}", p.id  # type: ignore[index]
        assert p.url == f"https://arxiv.org/abs/{p.arxiv_id}"


def test_both_blog_feeds(catalog: Catalog) -> None:
    feeds = {s.id: s for s in of_kind(catalog, "blog_feed")}
    assert feeds["blog-github-io"].feed_url == "http://karpathy.github.io/feed.xml"
    assert feeds["blog-bearblog"].feed_url == "https://karpathy.bearblog.dev/feed/"
    assert len(feeds) == 2


def test_tweet_archive(by_id: dict[str, Source]) -> None:
    t = by_id["tweets-karpathy"]
    assert t.kind == "tweet_archive" and not t.known_gap
    assert t.date == "2022-11" and t.notes and "Mar 2026" in t.notes


def test_known_gaps_are_flagged(catalog: Catalog, by_id: dict[str, Source]) -> None:
    assert [s.id for s in catalog.sources if s.known_gap] == KNOWN_GAPS
    assert all(by_id[g].notes for g in KNOWN_GAPS)
    # The Berkeley talk is a gap the corpus can fill: it carries its id so a transcript matches.
    assert by_id["gap-berkeley-ai-hackathon-2024"].youtube_id == "tsTeEkzO9xc"


def test_github_io_posts(catalog: Catalog) -> None:
    posts = [
        s
        for s in catalog.sources
        if s.collection == "github_io" and s.kind == "blog_post" and not s.known_gap
    ]
    assert len(posts) == 23
    for p in posts:
        assert p.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.date), p.id
        y, m, d = p.date.split("-")
        assert (
            p.url and p.url.startswith(f"https://karpathy.github.io/{y}/{m}/{d}/") and p.url.endswith("/")
        ), p.id
    titles = {p.title for p in posts}
    assert "The Unreasonable Effectiveness of Recurrent Neural Networks" in titles
    assert "A Recipe for Training Neural Networks" in titles
    # Front-matter date wins over the file name's: the file 2015-11-20-ai has date 2015-11-14.
    ai = catalog.by_id()["blog-github-io-ai"]
    assert ai.date == "2015-11-14" and "https://karpathy.github.io/2015/11/20/ai/" in ai.aliases


def test_bearblog_posts(catalog: Catalog, by_id: dict[str, Source]) -> None:
    posts = [s for s in catalog.sources if s.collection == "bearblog" and s.kind == "blog_post"]
    assert len(posts) == 13
    assert all(p.url and p.url.startswith("https://karpathy.bearblog.dev/") for p in posts)
    assert by_id["blog-bearblog-verifiability"].date == "2025-11-17"
    assert by_id["blog-bearblog-the-space-of-minds"].date == "2025-11-29"
    named = {p.id for p in posts if p.in_profile}
    assert {
        "blog-bearblog-verifiability",
        "blog-bearblog-i-love-calculator",
        "blog-bearblog-power-to-the-people",
    } <= named


def test_titles_and_urls_identify_one_source_each(catalog: Catalog) -> None:
    """A title or URL two sources share would match neither when files are matched to sources."""
    from pipelines.core.matching import canonical_url, norm_title

    titles: dict[str, str] = {}
    urls: dict[str, str] = {}
    for s in catalog.sources:
        for t in [s.title, *(a for a in s.aliases if not a.startswith("http"))]:
            assert titles.setdefault(norm_title(t), s.id) == s.id, (t, s.id)
        for u in [s.url, *(a for a in s.aliases if a.startswith("http"))]:
            if u:
                assert urls.setdefault(canonical_url(u), s.id) == s.id, (u, s.id)


def test_dates_are_quoted_strings_in_the_yaml() -> None:
    raw = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    for entry in raw["sources"]:
        if "date" in entry:
            assert isinstance(entry["date"], str), entry["id"]


@pytest.mark.skipif(real_corpus_dir() is None, reason="CORPUS_REAL_DIR not set")
def test_github_io_titles_and_dates_match_the_corpus_front_matter(catalog: Catalog) -> None:
    corpus = real_corpus_dir()
    assert corpus is not None
    by_url = {s.url: s for s in catalog.sources if s.collection == "github_io" and s.url}
    files = sorted((corpus / "blog" / "github_io").glob("20*.markdown"))
    assert len(files) == 23
    for f in files:
        front = yaml.safe_load(f.read_text(encoding="utf-8").split("---")[1])
        day = str(front["date"])[:10]
        slug = f.stem[11:]
        url = f"https://karpathy.github.io/{day[:4]}/{day[5:7]}/{day[8:10]}/{slug}/"
        assert url in by_url, f.name
        assert by_url[url].title == front["title"] and by_url[url].date == day, f.name


# ------------------------------------------------------------------ bad entries


def write(tmp_path: Path, sources: str) -> Path:
    p = tmp_path / "catalog.yaml"
    p.write_text(f"thinker: {{name: Someone}}\nsources:\n{sources}", encoding="utf-8")
    return p


GOOD = "  - {id: video-ok, kind: video, title: A talk, youtube_id: VMj-3S1tku0}\n"


def test_unsafe_id_names_file_entry_and_field(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + '  - {id: "../etc", kind: repo, title: Bad}\n')
    with pytest.raises(ConfigError) as e:
        load_catalog(p)
    msg = str(e.value)
    assert str(p) in msg and "'../etc' (sources[1])" in msg and "field 'id'" in msg


def test_bad_youtube_id_names_file_entry_and_field(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + "  - {id: video-bad, kind: video, title: Bad, youtube_id: not-an-id}\n")
    with pytest.raises(ConfigError) as e:
        load_catalog(p)
    msg = str(e.value)
    assert str(p) in msg and "'video-bad' (sources[1])" in msg and "field 'youtube_id'" in msg
    assert "11-character YouTube video id" in msg


def test_unknown_field_and_bad_kind_are_named(tmp_path: Path) -> None:
    p = write(tmp_path, "  - {id: x, kind: vidoe, title: X, youtube: VMj-3S1tku0}\n")
    with pytest.raises(ConfigError) as e:
        load_catalog(p)
    msg = str(e.value)
    assert "'x' (sources[0]), field 'kind'" in msg and "'x' (sources[0]), field 'youtube'" in msg


def test_repeated_youtube_id_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + "  - {id: video-again, kind: video, title: Again, youtube_id: VMj-3S1tku0}\n")
    with pytest.raises(ConfigError, match="VMj-3S1tku0 is on both 'video-ok' and 'video-again'"):
        load_catalog(p)


def test_bad_date_names_the_field(tmp_path: Path) -> None:
    p = write(tmp_path, '  - {id: x, kind: paper, title: X, date: "2023-5"}\n')
    with pytest.raises(ConfigError) as e:
        load_catalog(p)
    assert "'x' (sources[0]), field 'date'" in str(e.value) and "YYYY-MM-DD" in str(e.value)


# ------------------------------------------------------------------ date coercion


def test_unquoted_yaml_dates_are_coerced_to_iso_strings(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "  - {id: a, kind: paper, title: A, date: 2023-05-01}\n"
        "  - {id: b, kind: paper, title: B, date: 2023-05-01 10:30:00}\n"
        "  - {id: c, kind: paper, title: C, date: 2011}\n",
    )
    by_id = load_catalog(p).by_id()
    assert by_id["a"].date == "2023-05-01" and by_id["a"].date_start == date(2023, 5, 1)
    assert by_id["b"].date == "2023-05-01"
    assert by_id["c"].date == "2011" and by_id["c"].date_start == date(2011, 1, 1)


def test_date_objects_are_coerced_in_python_too() -> None:
    assert Source(id="x", kind="paper", title="X", date=date(2024, 2, 13)).date == "2024-02-13"  # type: ignore[arg-type]
    assert Source(id="x", kind="paper", title="X", date=datetime(2024, 2, 13, 23, 59)).date == "2024-02-13"  # type: ignore[arg-type]


def test_a_file_is_parsed_again_only_when_its_text_changes(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD)
    first = load_catalog(p)
    assert load_catalog(p) is first  # the same text: the validated model of the first load
    p.write_text(p.read_text(encoding="utf-8").replace("A talk", "A lecture"), encoding="utf-8")
    assert [s.title for s in load_catalog(p).sources] == ["A lecture"]
    p.write_text(p.read_text(encoding="utf-8") + '  - {id: "../etc", kind: repo, title: Bad}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="field 'id'"):  # an edit that breaks it is reported, not served from before
        load_catalog(p)
