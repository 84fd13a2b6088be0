SELECT reason, count(*) AS rejected_rows
FROM {{ ref('issues') }}
WHERE severity = 'rejected'
GROUP BY reason
