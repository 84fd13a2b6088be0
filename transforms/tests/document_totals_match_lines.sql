WITH sales AS (
    SELECT 'invoices' AS document_table, d.id, d.tax_type, d.net_amount, d.gross_amount, d.discount_amount,
        sum(l.line_amount) AS lines_amount
    FROM {{ ref('invoices') }} AS d JOIN {{ ref('invoice_lines') }} AS l ON l.invoice_id = d.id
    GROUP BY d.id, d.tax_type, d.net_amount, d.gross_amount, d.discount_amount
    UNION ALL
    SELECT 'credit_notes', d.id, d.tax_type, d.net_amount, d.gross_amount, d.discount_amount, sum(l.line_amount)
    FROM {{ ref('credit_notes') }} AS d JOIN {{ ref('credit_note_lines') }} AS l ON l.credit_note_id = d.id
    GROUP BY d.id, d.tax_type, d.net_amount, d.gross_amount, d.discount_amount
)

SELECT document_table, id, CASE WHEN tax_type = 'gross' THEN gross_amount ELSE net_amount END AS document_amount,
    lines_amount - discount_amount AS lines_amount
FROM sales
WHERE abs(lines_amount - discount_amount - CASE WHEN tax_type = 'gross' THEN gross_amount ELSE net_amount END) > 0.01
UNION ALL
SELECT 'bills', d.id, d.gross_amount, sum(l.gross_amount)
FROM {{ ref('bills') }} AS d JOIN {{ ref('bill_lines') }} AS l ON l.bill_id = d.id
WHERE d.status <> 'draft'
GROUP BY d.id, d.gross_amount, d.tax_amount
HAVING abs(sum(l.gross_amount) - d.gross_amount) > 0.01 OR abs(sum(l.tax_amount) - d.tax_amount) > 0.01
