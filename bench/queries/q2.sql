SELECT country, sum(revenue) AS revenue, count(*) AS "count"
FROM events WHERE device = 'mobile' GROUP BY country ORDER BY revenue DESC LIMIT 10
