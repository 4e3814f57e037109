SELECT date_trunc('day', __time) AS "timestamp", approx_count_distinct(user_id) AS users
FROM events GROUP BY 1 ORDER BY 1
