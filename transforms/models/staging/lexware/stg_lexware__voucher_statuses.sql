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
