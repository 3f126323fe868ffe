-- Monthly trend of one tracked phrase.
-- param phrase: a phrase id of analysis/lexicon.yaml (default from-scratch)
-- In the DuckDB CLI set it first:  SET VARIABLE phrase = 'vibe-coding';
SELECT period_month, kind, documents, hits, per_10k_words
FROM phrase_frequencies
WHERE phrase_id = coalesce(getvariable('phrase'), 'from-scratch')
  AND period_month IS NOT NULL
ORDER BY period_month, kind;
