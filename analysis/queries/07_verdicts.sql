-- Every claim with its verdict, worst first.
SELECT verdict, claim_id, section, measured, expected, explanation
FROM claims
ORDER BY CASE verdict WHEN 'contradicted' THEN 0 WHEN 'inconsistent' THEN 1 WHEN 'lower_bound' THEN 2
                      WHEN 'not_checkable' THEN 3 ELSE 4 END, claim_id;
