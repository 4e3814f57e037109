SELECT date_trunc('hour', __time) AS "timestamp", count(*) AS "count", sum(revenue) AS revenue
FROM events GROUP BY 1 ORDER BY 1
