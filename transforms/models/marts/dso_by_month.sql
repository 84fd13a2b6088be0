-- Days sales outstanding per month up to marts.as_of: receivables outstanding at month end divided by
-- the month's gross invoiced revenue, times the days in the month (NULL when nothing was invoiced).
-- Receivables at month end are rebuilt from events: +gross on the issue date, -each incoming payment on
-- its posting date, and any remaining settlement (gross - open - payments) on the paid date (else as-of).
WITH booked AS (
    SELECT i.* FROM {{ ref('invoices') }} AS i
    WHERE i.status IN ('open', 'partially_paid', 'paid') AND NOT i.is_deleted
),

paid AS (
    SELECT document_id, sum(amount) AS paid_amount
    FROM {{ ref('payments') }} WHERE direction = 'incoming' AND document_table = 'invoices' GROUP BY document_id
),

events AS (
    SELECT tenant_id, issue_date AS event_date, gross_amount AS delta, gross_amount AS revenue FROM booked
    UNION ALL
    SELECT b.tenant_id, p.payment_date, -p.amount, 0
    FROM {{ ref('payments') }} AS p JOIN booked AS b ON b.id = p.document_id
    WHERE p.direction = 'incoming'
    UNION ALL
    SELECT b.tenant_id, coalesce(b.paid_on, a.as_of_date), -(b.gross_amount - b.open_amount - coalesce(pd.paid_amount, 0)), 0
    FROM booked AS b
    CROSS JOIN {{ ref('as_of') }} AS a
    LEFT JOIN paid AS pd ON pd.document_id = b.id
    WHERE b.gross_amount - b.open_amount - coalesce(pd.paid_amount, 0) <> 0
),

monthly AS (
    SELECT tenant_id, date_trunc('month', event_date)::DATE AS month, sum(delta) AS delta, sum(revenue) AS revenue
    FROM events GROUP BY tenant_id, date_trunc('month', event_date)::DATE
),

spine AS (
    SELECT t.tenant_id, m.month::DATE AS month
    FROM (SELECT tenant_id, min(month) AS first_month FROM monthly GROUP BY tenant_id) AS t
    CROSS JOIN {{ ref('as_of') }} AS a
    CROSS JOIN LATERAL generate_series(
        CAST(t.first_month AS TIMESTAMP), CAST(date_trunc('month', a.as_of_date) AS TIMESTAMP), INTERVAL '1 month'
    ) AS m (month)
),

filled AS (
    SELECT
        s.tenant_id,
        s.month,
        coalesce(m.revenue, 0) AS revenue,
        sum(coalesce(m.delta, 0)) OVER (PARTITION BY s.tenant_id ORDER BY s.month) AS receivables
    FROM spine AS s
    LEFT JOIN monthly AS m ON m.tenant_id = s.tenant_id AND m.month = s.month
)

SELECT
    tenant_id,
    month,
    revenue::DECIMAL(18, 2) AS revenue_gross_amount,
    receivables::DECIMAL(18, 2) AS receivables_at_month_end,
    CAST(CAST(month + INTERVAL '1 month' AS DATE) - month AS BIGINT) AS days_in_month,
    CASE
        WHEN revenue > 0 THEN round(receivables / revenue * CAST(CAST(month + INTERVAL '1 month' AS DATE) - month AS BIGINT), 1)
    END::DECIMAL(9, 1)
        AS dso_days
FROM filled
