SELECT count(*) AS "count", sum(clicks) AS clicks, sum(revenue) AS revenue
FROM events WHERE campaign = 'cmp-00042' AND country = 'AA'
