-- asset: cdm.invoices
-- Open amounts lie between 0 and the document's gross total (invoices, credit notes, bills).
SELECT 'invoices' AS document_table, id, open_amount, gross_amount FROM cdm.invoices
WHERE open_amount < 0 OR open_amount > gross_amount
UNION ALL
SELECT 'credit_notes', id, open_amount, gross_amount FROM cdm.credit_notes
WHERE open_amount < 0 OR open_amount > gross_amount
UNION ALL
SELECT 'bills', id, open_amount, gross_amount FROM cdm.bills
WHERE open_amount < 0 OR open_amount > gross_amount
