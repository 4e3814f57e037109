SELECT page, count(*) AS "count" FROM events GROUP BY page ORDER BY "count" DESC, page ASC LIMIT 100
