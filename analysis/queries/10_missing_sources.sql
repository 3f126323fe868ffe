-- Catalogued sources with no document yet, and what the fetchers recorded about them.
SELECT s.kind, s.source_id, s.title, s.known_gap,
       (SELECT string_agg(DISTINCT n.status || coalesce(': ' || n.error, ''), '; ')
          FROM snapshots n WHERE n.source_id = s.source_id) AS fetch_outcomes
FROM sources s
WHERE s.in_catalog AND s.kind <> 'blog_feed'
  AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.source_id = s.source_id)
ORDER BY s.known_gap, s.kind, s.source_id;
