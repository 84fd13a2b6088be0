-- Revenue per month (of the issue date) and tax rate: net, tax and gross of booked sales invoices (status
-- open, partially_paid or paid; both kinds) minus booked credit notes, per rate from cdm.document_tax_amounts.
-- Invoices and credit notes written in Lexware use Lexware's tax groups (taxAmounts): net after
-- document-level discounts, tax rounded per document and rate as Lexware does. Bookkeeping sales vouchers
-- (and any document without usable taxAmounts) are summed from their lines per rate.
WITH booked AS (
    SELECT id, tenant_id, issue_date, 1 AS sign FROM {{ ref('invoices') }}
    WHERE status IN ('open', 'partially_paid', 'paid') AND NOT is_deleted
    UNION ALL
    SELECT id, tenant_id, issue_date, -1 FROM {{ ref('credit_notes') }}
    WHERE status IN ('open', 'partially_paid', 'paid') AND NOT is_deleted
),

groups AS (
    SELECT b.tenant_id, b.issue_date, b.id AS document_id, b.sign, t.tax_rate_percent, t.net_amount,
        t.tax_amount, t.gross_amount
    FROM {{ ref('document_tax_amounts') }} AS t
    JOIN booked AS b ON b.id = t.document_id
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
FROM groups
GROUP BY tenant_id, date_trunc('month', issue_date)::DATE, tax_rate_percent
