-- The author's own tweets per month (retweets excluded).
SELECT date_trunc('month', t.created_at)::DATE AS month,
       count(*)                                 AS tweets,
       sum(d.word_count)                        AS words
FROM tweets t JOIN documents d USING (doc_id)
WHERE d.is_own AND t.created_at IS NOT NULL
GROUP BY 1
ORDER BY 1;
