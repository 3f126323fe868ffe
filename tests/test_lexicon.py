"""analysis/lexicon.yaml: the shipped lexicon loads, covers the profile, and bad entries fail
with the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.config import ConfigError
from pipelines.core.lexicon import Lexicon, default_lexicon_path, hyphen_variants, lexicon_hash, load_lexicon

PROFILE_PHRASES = {
    "from-scratch",
    "vibe-coding",
    "jagged-intelligence",
    "software-2.0",
    "software-3.0",
    "system-1",
    "system-2",
    "bicycle-for-the-mind",
    "cognitive-core",
    "llm-os",
    "autonomy-slider",
    "iron-man-suit",
    "dream-machines",
    "decade-of-agents",
    "autoresearch",
    "verifiability",
    "intelligence-brownout",
    "speciation",
    "factorio",
}
PROFILE_ENTITIES = {
    "licklider",
    "man-computer-symbiosis",
    "engelbart",
    "alan-kay",
    "shannon",
    "kolmogorov",
    "darwin",
    "kahneman",
    "thinking-fast-and-slow",
    "andy-weir",
    "ted-chiang",
    "tolkien",
    "asimov",
    "the-last-question",
    "factorio",
    "simon-willison",
    "elon-musk",
    "jensen-huang",
    "feynman",
}


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "lexicon.yaml"
    p.write_text(text)
    return p


def test_shipped_lexicon_covers_the_profile() -> None:
    lex = load_lexicon()
    assert default_lexicon_path().name == "lexicon.yaml"
    assert PROFILE_PHRASES <= {p.id for p in lex.phrases}
    assert PROFILE_ENTITIES <= {e.id for e in lex.entities}
    for item in [*lex.phrases, *lex.entities]:
        assert item.notes, f"{item.id} has no notes documenting its rule"


def test_shipped_variants_and_ambiguity_rules() -> None:
    lex = load_lexicon()
    assert {"from scratch", "from-scratch"} <= set(lex.phrase("from-scratch").surface_forms())
    vibe = set(lex.phrase("vibe-coding").surface_forms())
    assert {"vibe coding", "vibe-coding", "vibe coded", "vibe code"} <= vibe
    kay = lex.entity("alan-kay")
    assert "Kay" not in kay.aliases + kay.weak_aliases
    assert "Kay" in (kay.notes or "")
    kahneman = lex.entity("kahneman")
    every_kahneman_form = " ".join(kahneman.aliases + kahneman.weak_aliases).lower()
    assert "system" not in every_kahneman_form
    assert "not" in (lex.phrase("system-1").notes or "").lower()
    assert "@simonw" in lex.entity("simon-willison").handles
    assert lex.entity("the-last-question").case_sensitive


def test_hyphen_variants() -> None:
    assert hyphen_variants("vibe coding") == ["vibe coding", "vibe-coding"]
    assert hyphen_variants("from-scratch") == ["from-scratch", "from scratch"]
    assert hyphen_variants("autoresearch") == ["autoresearch"]


def test_lexicon_hash_changes_with_content() -> None:
    a = Lexicon.model_validate({"phrases": [{"id": "x", "label": "x", "forms": ["a b"]}]})
    b = Lexicon.model_validate({"phrases": [{"id": "x", "label": "x", "forms": ["a b"]}]})
    c = Lexicon.model_validate({"phrases": [{"id": "x", "label": "x", "forms": ["a c"]}]})
    assert lexicon_hash(a) == lexicon_hash(b) != lexicon_hash(c)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "phrases:\n  - {id: ok, label: ok, forms: [a]}\n  - {id: empty-one, label: e, forms: []}\n",
            ["empty-one", "phrases[1]", "forms"],
        ),
        ("phrases:\n  - {id: blank, label: b, forms: ['  ']}\n", ["blank", "forms", "empty"]),
        ("phrases:\n  - {id: Bad ID, label: b, forms: [a]}\n", ["Bad ID", "id", "not allowed"]),
        (
            "phrases:\n  - {id: a, label: a, forms: [x]}\n  - {id: a, label: a2, forms: [y]}\n",
            ["phrases[1]", "'a'", "repeats"],
        ),
        (
            "phrases:\n  - {id: a, label: a, forms: [x y]}\n  - {id: b, label: b, forms: [x-y]}\n",
            ["'b'", "already counts", "'a'"],
        ),
        (
            "phrases:\n  - {id: pat, label: p, forms: [x], patterns: [[{LOWR: x}]]}\n",
            ["pat", "patterns", "LOWR"],
        ),
        ("entities:\n  - {id: e1, name: E, type: person}\n", ["e1", "at least one"]),
        ("entities:\n  - {id: e2, name: E, type: alien, aliases: [E]}\n", ["e2", "type"]),
        ("entities:\n  - {id: e3, name: E, type: person, weak_aliases: [E]}\n", ["e3", "require_context"]),
        ("entities:\n  - {id: e4, name: E, type: person, handles: [simonw]}\n", ["e4", "handles", "@name"]),
        (
            "entities:\n  - {id: e5, name: E, type: person, aliases: [Same]}\n  - {id: e6, name: F, type: person, aliases: [same]}\n",
            ["'e6'", "already belongs", "'e5'"],
        ),
        ("phrases:\n  - {id: x, label: x, forms: [a], colour: red}\n", ["'x'", "colour", "unknown field"]),
    ],
)
def test_bad_entries_name_file_entry_and_field(tmp_path: Path, yaml_text: str, expected: list[str]) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as err:
        load_lexicon(path)
    msg = str(err.value)
    assert str(path) in msg
    for part in expected:
        assert part in msg, f"{part!r} not in {msg!r}"


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_lexicon(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="empty"):
        load_lexicon(write(tmp_path, ""))


def test_ngram_settings_validated_and_shipped() -> None:
    from pipelines.core.config import ConfigError
    from pipelines.core.lexicon import load_lexicon

    shipped = load_lexicon(Path(__file__).resolve().parents[1] / "analysis" / "lexicon.yaml")
    assert shipped.ngrams.ns == [1, 2, 3, 4] and shipped.ngrams.top_n == 2000
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        bad = Path(d) / "lexicon.yaml"
        bad.write_text("ngrams: {ns: [2, 9]}\nphrases: []\nentities: []\n")
        with pytest.raises(ConfigError) as e:
            load_lexicon(bad)
        assert "lexicon.yaml" in str(e.value) and "ngrams" in str(e.value)
