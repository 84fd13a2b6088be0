-- What each customer owes as of marts.as_of: receivables open on that date minus credit notes unsettled on
-- that date (open amounts from marts.document_balances: gross minus the payments dated on or before
-- as_of; documents without payment items keep today's open_amount), with the totals invoiced, credited
-- and received up to as_of. One row per customer contact plus one per contactless document name
-- (customer_key "name:<address name>").
WITH per_customer AS (
    SELECT
        d.tenant_id,
        coalesce(d.contact_id, 'name:' || coalesce(d.contact_name, '?')) AS customer_key,
        min(d.contact_name) AS document_contact_name,
        sum(d.gross_amount) FILTER (WHERE d.document_table = 'invoices') AS invoiced_amount,
        sum(d.gross_amount) FILTER (WHERE d.document_table = 'credit_notes') AS credited_amount,
        sum(d.open_amount) FILTER (WHERE d.document_table = 'invoices') AS open_receivables,
        sum(d.open_amount) FILTER (WHERE d.document_table = 'credit_notes') AS open_credits,
        sum(d.open_amount) FILTER (WHERE d.document_table = 'invoices' AND d.days_past_due > 0) AS overdue_amount,
        count(*) FILTER (WHERE d.document_table = 'invoices') AS invoice_count,
        max(d.issue_date) FILTER (WHERE d.document_table = 'invoices') AS last_invoice_date
    FROM {{ ref('document_balances') }} AS d
    WHERE d.document_table IN ('invoices', 'credit_notes')
    GROUP BY d.tenant_id, coalesce(d.contact_id, 'name:' || coalesce(d.contact_name, '?'))
),

received AS (
    SELECT p.tenant_id, p.contact_id AS customer_key, sum(p.amount) AS received_amount,
        max(p.payment_date) AS last_payment_date
    FROM {{ ref('payments') }} AS p
    CROSS JOIN {{ ref('as_of') }} AS a
    WHERE p.document_table = 'invoices' AND p.direction = 'incoming' AND NOT p.is_deleted
        AND p.contact_id IS NOT NULL AND coalesce(p.payment_date <= a.as_of_date, TRUE)
    GROUP BY p.tenant_id, p.contact_id
),

customers AS (
    SELECT tenant_id, id AS customer_key FROM {{ ref('contacts') }} WHERE is_customer AND NOT is_deleted
    UNION
    SELECT tenant_id, customer_key FROM per_customer
)

SELECT
    k.tenant_id,
    k.customer_key,
    c.id AS contact_id,
    coalesce(c.name, pc.document_contact_name) AS customer_name,
    c.customer_number,
    a.as_of_date,
    coalesce(pc.invoiced_amount, 0)::DECIMAL(18, 2) AS invoiced_amount,
    coalesce(pc.credited_amount, 0)::DECIMAL(18, 2) AS credited_amount,
    coalesce(r.received_amount, 0)::DECIMAL(18, 2) AS received_amount,
    coalesce(pc.open_receivables, 0)::DECIMAL(18, 2) AS open_receivables,
    coalesce(pc.open_credits, 0)::DECIMAL(18, 2) AS open_credits,
    (coalesce(pc.open_receivables, 0) - coalesce(pc.open_credits, 0))::DECIMAL(18, 2) AS balance,
    coalesce(pc.overdue_amount, 0)::DECIMAL(18, 2) AS overdue_amount,
    coalesce(pc.invoice_count, 0) AS invoice_count,
    pc.last_invoice_date,
    r.last_payment_date
FROM customers AS k
CROSS JOIN {{ ref('as_of') }} AS a
LEFT JOIN {{ ref('contacts') }} AS c ON c.id = k.customer_key
LEFT JOIN per_customer AS pc ON pc.tenant_id = k.tenant_id AND pc.customer_key = k.customer_key
LEFT JOIN received AS r ON r.tenant_id = k.tenant_id AND r.customer_key = k.customer_key
