SELECT date_trunc('minute', __time) AS "timestamp", count(*) AS "count", sum(revenue) AS revenue
FROM events WHERE __time >= TIMESTAMP '2025-01-15 12:00:00' AND __time < TIMESTAMP '2025-01-15 13:00:00'
GROUP BY 1 ORDER BY 1
