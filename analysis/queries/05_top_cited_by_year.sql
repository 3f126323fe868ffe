-- Most-cited people, works and games per year (documents citing them, own words only).
WITH per_year AS (
    SELECT year(d.published_at) AS year, m.entity_id,
           count(DISTINCT m.doc_id) AS documents, count(*) AS mentions
    FROM mentions m JOIN documents d USING (doc_id)
    WHERE d.published_at IS NOT NULL AND m.is_own
    GROUP BY 1, 2
)
SELECT * FROM per_year
QUALIFY row_number() OVER (PARTITION BY year ORDER BY documents DESC, mentions DESC, entity_id) <= 10
ORDER BY year DESC, documents DESC;
