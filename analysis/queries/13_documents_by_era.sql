-- Documents per era of the profile's "Evolution of Thinking" (and earlier periods).
SELECT era_name, kind, count(*) AS documents, min(published_at)::DATE AS first, max(published_at)::DATE AS last
FROM timeline
GROUP BY ALL
ORDER BY first, kind;
