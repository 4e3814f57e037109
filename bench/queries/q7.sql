SELECT __time, country, device, campaign, page, user_id, clicks, revenue, latency_ms
FROM events WHERE device = 'tablet' AND latency_ms >= 1500 ORDER BY __time LIMIT 100
