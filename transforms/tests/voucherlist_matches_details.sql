SELECT vl.tenant_id, vl.remote_id, vl.voucher_type, vl.source_status AS list_status,
    d.source_status AS detail_status, vl.total_amount AS list_total, d.gross_amount AS detail_total
FROM {{ ref('stg_lexware__voucherlist') }} AS vl
JOIN {{ ref('stg_lexware__documents') }} AS d ON d.tenant_id = vl.tenant_id AND d.remote_id = vl.remote_id
WHERE NOT vl.is_deleted AND NOT d.is_deleted AND (
    abs(vl.total_amount - d.gross_amount) > 0.01
    OR vl.status IS DISTINCT FROM CASE WHEN d.status = 'partially_paid' THEN 'open' ELSE d.status END
)
