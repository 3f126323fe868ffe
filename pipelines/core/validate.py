"""Check a project's configuration before any work: every YAML file of analysis/ and the ids one
file takes from another (claims -> lexicon phrases and entities, catalog source ids).

``validate_project`` returns the problems, each naming the file, the entry and the field; an empty
list means the run can start. ``corpus run`` calls it first and exits 2 on any problem, so a typo
never costs a parse of the corpus, let alone becomes a verdict.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.core.config import ConfigError, load_catalog


def validate_project(analysis: Path, catalog_path: Path) -> list[str]:
    from pipelines.core.claims.audit import load_audit
    from pipelines.core.claims.config import check_references, load_claims
    from pipelines.core.eras import load_eras
    from pipelines.core.lexicon import default_lexicon_path, load_lexicon

    problems: list[str] = []
    catalog = lexicon = claims = None
    try:
        catalog = load_catalog(catalog_path)
    except ConfigError as e:
        problems.append(str(e))
    lex_path = analysis / "lexicon.yaml"
    try:
        lexicon = load_lexicon(lex_path if lex_path.exists() else default_lexicon_path())
    except ConfigError as e:
        problems.append(str(e))
    claims_path = analysis / "claims.yaml"
    if claims_path.exists():
        try:
            claims = load_claims(claims_path)
        except ConfigError as e:
            problems.append(str(e))
    eras_path = analysis / "eras.yaml"
    if eras_path.exists():
        try:
            load_eras(eras_path)
        except ConfigError as e:
            problems.append(str(e))
    try:
        load_audit(analysis / "audit.yaml")
    except ConfigError as e:
        problems.append(str(e))
    if claims is not None and lexicon is not None and catalog is not None:
        try:
            check_references(
                claims, claims_path,
                phrases={p.id for p in lexicon.phrases}, entities={e.id for e in lexicon.entities},
                sources={s.id for s in catalog.sources},
            )
        except ConfigError as e:
            problems.append(str(e))
    return problems
