SELECT country, device, count(*) AS "count", sum(clicks) AS clicks
FROM events GROUP BY country, device
