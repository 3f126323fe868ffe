-- One claim's verdict and its evidence.
-- param claim: a claim id of analysis/claims.yaml (default from-scratch-tweets)
-- In the DuckDB CLI set it first:  SET VARIABLE claim = 'from-scratch-tweets';
SELECT c.claim_id, c.verdict, c.measured, c.expected, c.explanation,
       e.rank, e.kind, e.published_at::DATE AS date, e.link, e.snippet
FROM claims c LEFT JOIN claim_evidence e USING (claim_id)
WHERE c.claim_id = coalesce(getvariable('claim'), 'from-scratch-tweets')
ORDER BY e.rank;
