-- Every booked document (cdm.invoices, cdm.credit_notes, cdm.bills with status open, partially_paid or
-- paid, not deleted) issued on or before marts.as_of, with what was still open on that date: the gross
-- amount minus the payments (cdm.payments) dated on or before as_of. A remainder the payment items do not
-- explain (gross - today's open_amount - all payments, e.g. settled without a payment item) counts as
-- settled on paid_on, or before as_of when there is no paid_on, so as of today open_amount equals the
-- source's open amount. Documents without payment items (no payment information, e.g. credit notes
-- tied to an invoice) fall back to today's open_amount for any date (open_amount_basis says which).
-- Voided and draft documents are left out, whatever they were on the as-of date (Lexware gives no void date).
WITH docs AS (
    SELECT id, tenant_id, 'invoices' AS document_table, document_kind, document_number, contact_id,
        contact_name, issue_date, due_date, paid_on, gross_amount, open_amount
    FROM {{ ref('invoices') }}
    WHERE status IN ('open', 'partially_paid', 'paid') AND NOT is_deleted
    UNION ALL
    SELECT id, tenant_id, 'credit_notes', document_kind, document_number, contact_id, contact_name, issue_date,
        NULL, paid_on, gross_amount, open_amount
    FROM {{ ref('credit_notes') }}
    WHERE status IN ('open', 'partially_paid', 'paid') AND NOT is_deleted
    UNION ALL
    SELECT id, tenant_id, 'bills', document_kind, document_number, contact_id, contact_name, issue_date,
        due_date, paid_on, gross_amount, open_amount
    FROM {{ ref('bills') }}
    WHERE status IN ('open', 'partially_paid', 'paid') AND NOT is_deleted
),

paid AS (
    SELECT p.document_id, sum(p.amount) AS paid_total,
        coalesce(sum(p.amount) FILTER (WHERE p.payment_date > a.as_of_date), 0) AS paid_after
    FROM {{ ref('payments') }} AS p
    CROSS JOIN {{ ref('as_of') }} AS a
    WHERE NOT p.is_deleted
    GROUP BY p.document_id
),

balanced AS (
    SELECT
        d.*,
        a.as_of_date,
        CASE
            WHEN p.document_id IS NULL THEN d.open_amount
            WHEN d.paid_on > a.as_of_date THEN d.gross_amount - (p.paid_total - p.paid_after)
            ELSE d.open_amount + p.paid_after
        END AS open_as_of,
        CASE WHEN p.document_id IS NULL THEN 'current_open_amount' ELSE 'payments' END AS open_amount_basis
    FROM docs AS d
    CROSS JOIN {{ ref('as_of') }} AS a
    LEFT JOIN paid AS p ON p.document_id = d.id
    WHERE d.issue_date <= a.as_of_date
)

SELECT
    id AS document_id,
    tenant_id,
    document_table,
    document_kind,
    document_number,
    contact_id,
    contact_name,
    issue_date,
    due_date,
    as_of_date,
    as_of_date - coalesce(due_date, issue_date) AS days_past_due,
    gross_amount::DECIMAL(18, 2) AS gross_amount,
    (gross_amount - open_as_of)::DECIMAL(18, 2) AS paid_amount,
    open_as_of::DECIMAL(18, 2) AS open_amount,
    open_amount::DECIMAL(18, 2) AS current_open_amount,
    open_amount_basis
FROM balanced
