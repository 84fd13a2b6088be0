WITH booked AS (
    SELECT l.tenant_id, d.issue_date, l.item_id, l.name, l.quantity, l.net_amount, d.id AS document_id,
        1 AS sign
    FROM {{ ref('invoice_lines') }} AS l
    JOIN {{ ref('invoices') }} AS d ON d.id = l.invoice_id
    WHERE d.status IN ('open', 'partially_paid', 'paid') AND NOT d.is_deleted AND l.item_id IS NOT NULL
    UNION ALL
    SELECT l.tenant_id, d.issue_date, l.item_id, l.name, l.quantity, l.net_amount, d.id, -1
    FROM {{ ref('credit_note_lines') }} AS l
    JOIN {{ ref('credit_notes') }} AS d ON d.id = l.credit_note_id
    WHERE d.status IN ('open', 'partially_paid', 'paid') AND NOT d.is_deleted AND l.item_id IS NOT NULL
)

SELECT
    b.tenant_id,
    date_trunc('month', b.issue_date)::DATE AS month,
    b.item_id,
    coalesce(min(i.name), min(b.name)) AS item_name,
    min(i.item_number) AS item_number,
    min(i.item_type) AS item_type,
    sum(b.sign * b.quantity)::DECIMAL(18, 4) AS quantity,
    sum(b.sign * b.net_amount)::DECIMAL(18, 2) AS net_amount,
    count(DISTINCT b.document_id) FILTER (WHERE b.sign = 1) AS invoice_count,
    count(DISTINCT b.document_id) FILTER (WHERE b.sign = -1) AS credit_note_count
FROM booked AS b
LEFT JOIN {{ ref('items') }} AS i ON i.id = b.item_id
GROUP BY b.tenant_id, month, b.item_id
