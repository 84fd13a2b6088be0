-- Revenue per month (of the issue date) and tax rate: net, tax and gross of the lines of booked sales
-- invoices (status open, partially_paid or paid; both kinds) minus the lines of booked credit notes.
-- Tax is summed from lines (rounded per line), so it can differ by a cent from the tax Lexware rounds
-- per document and rate. Document-level discounts (discount_amount) are not deducted here.
-- grain: tenant_id, month, tax_rate_percent
WITH lines AS (
    SELECT i.tenant_id, i.issue_date, i.id AS document_id, 1 AS sign, l.tax_rate_percent,
        l.net_amount, l.tax_amount, l.gross_amount
    FROM cdm.invoice_lines AS l
    JOIN cdm.invoices AS i ON i.id = l.invoice_id
    WHERE i.status IN ('open', 'partially_paid', 'paid') AND NOT i.is_deleted AND l.net_amount IS NOT NULL
    UNION ALL
    SELECT c.tenant_id, c.issue_date, c.id, -1, l.tax_rate_percent, l.net_amount, l.tax_amount, l.gross_amount
    FROM cdm.credit_note_lines AS l
    JOIN cdm.credit_notes AS c ON c.id = l.credit_note_id
    WHERE c.status IN ('open', 'partially_paid', 'paid') AND NOT c.is_deleted AND l.net_amount IS NOT NULL
)

SELECT
    tenant_id,
    date_trunc('month', issue_date)::DATE AS month,
    tax_rate_percent,
    sum(sign * net_amount)::DECIMAL(18, 2) AS net_amount,
    sum(sign * tax_amount)::DECIMAL(18, 2) AS tax_amount,
    sum(sign * gross_amount)::DECIMAL(18, 2) AS gross_amount,
    count(DISTINCT document_id) FILTER (WHERE sign = 1) AS invoice_count,
    count(DISTINCT document_id) FILTER (WHERE sign = -1) AS credit_note_count
FROM lines
GROUP BY ALL
