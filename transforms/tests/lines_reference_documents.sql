SELECT 'invoice_lines' AS line_table, l.id, l.invoice_id AS document_id
FROM {{ ref('invoice_lines') }} AS l LEFT JOIN {{ ref('invoices') }} AS d ON d.id = l.invoice_id AND d.tenant_id = l.tenant_id
WHERE d.id IS NULL
UNION ALL
SELECT 'credit_note_lines', l.id, l.credit_note_id
FROM {{ ref('credit_note_lines') }} AS l
LEFT JOIN {{ ref('credit_notes') }} AS d ON d.id = l.credit_note_id AND d.tenant_id = l.tenant_id
WHERE d.id IS NULL
UNION ALL
SELECT 'bill_lines', l.id, l.bill_id
FROM {{ ref('bill_lines') }} AS l LEFT JOIN {{ ref('bills') }} AS d ON d.id = l.bill_id AND d.tenant_id = l.tenant_id
WHERE d.id IS NULL
