-- Most-cited people, works and games per year (documents citing them, own words only).
SELECT year(d.published_at) AS year, m.entity_id,
       count(DISTINCT m.doc_id) AS documents, count(*) AS mentions
FROM mentions m JOIN documents d USING (doc_id)
WHERE d.published_at IS NOT NULL
GROUP BY ALL
QUALIFY row_number() OVER (PARTITION BY year ORDER BY documents DESC, mentions DESC, m.entity_id) <= 10
ORDER BY year DESC, documents DESC;
