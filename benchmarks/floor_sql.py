"""The floor of the metrics figures: one hand-written DuckDB query of the same aggregates
as ``crm-report metrics --by rep --region R`` (standard library only: the harness and the
floor process import it without pandas)."""

FLOOR_SQL = """
SELECT owner,
    COUNT(*) FILTER (WHERE status = 'won' AND closed_at >= $start AND closed_at < $end) AS won,
    COUNT(*) FILTER (WHERE status = 'lost' AND closed_at >= $start AND closed_at < $end) AS lost,
    COUNT(*) FILTER (WHERE created_at >= $start) AS created,
    MEDIAN(epoch(closed_at - created_at)) FILTER (WHERE status = 'won' AND closed_at >= $start
                                                   AND closed_at < $end) AS med_won,
    AVG(amount) FILTER (WHERE status = 'won' AND closed_at >= $start AND closed_at < $end) AS avg_won,
    COUNT(*) FILTER (WHERE closed_at IS NULL OR closed_at >= $end) AS open,
    SUM(amount) FILTER (WHERE closed_at IS NULL OR closed_at >= $end) AS open_amount
FROM opportunities
WHERE region = $region AND created_at < $end
GROUP BY owner
"""
