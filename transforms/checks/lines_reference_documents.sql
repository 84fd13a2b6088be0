-- asset: cdm.invoice_lines
-- Referential integrity lines -> documents: every invoice, credit note and bill line belongs to a document
-- of the same tenant. Returns the orphan lines.
SELECT 'invoice_lines' AS line_table, l.id, l.invoice_id AS document_id
FROM cdm.invoice_lines AS l LEFT JOIN cdm.invoices AS d ON d.id = l.invoice_id AND d.tenant_id = l.tenant_id
WHERE d.id IS NULL
UNION ALL
SELECT 'credit_note_lines', l.id, l.credit_note_id
FROM cdm.credit_note_lines AS l
LEFT JOIN cdm.credit_notes AS d ON d.id = l.credit_note_id AND d.tenant_id = l.tenant_id
WHERE d.id IS NULL
UNION ALL
SELECT 'bill_lines', l.id, l.bill_id
FROM cdm.bill_lines AS l LEFT JOIN cdm.bills AS d ON d.id = l.bill_id AND d.tenant_id = l.tenant_id
WHERE d.id IS NULL
