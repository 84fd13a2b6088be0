-- Lexware voucher statuses mapped to the CDM status vocabulary (draft, open, paid, voided).
-- overdue/transferred/sepadebit are states of an open document: overdue is derived from the due date
-- (recomputed in marts as of a date), transferred/sepadebit mean a payment is initiated but not booked.
-- unchecked/blank are uploaded bookkeeping vouchers still waiting for data, i.e. not yet booked.
-- CDM "partially_paid" is derived from open amounts in cdm; values missing here map to "unknown".
-- grain: source_status
SELECT source_status, status
FROM (
    VALUES
        ('draft', 'draft'),
        ('unchecked', 'draft'),
        ('blank', 'draft'),
        ('open', 'open'),
        ('overdue', 'open'),
        ('transferred', 'open'),
        ('sepadebit', 'open'),
        ('paid', 'paid'),
        ('paidoff', 'paid'),
        ('voided', 'voided')
) AS statuses (source_status, status)
