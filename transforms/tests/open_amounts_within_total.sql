SELECT 'invoices' AS document_table, id, open_amount, gross_amount FROM {{ ref('invoices') }}
WHERE open_amount < 0 OR open_amount > gross_amount
UNION ALL
SELECT 'credit_notes', id, open_amount, gross_amount FROM {{ ref('credit_notes') }}
WHERE open_amount < 0 OR open_amount > gross_amount
UNION ALL
SELECT 'bills', id, open_amount, gross_amount FROM {{ ref('bills') }}
WHERE open_amount < 0 OR open_amount > gross_amount
