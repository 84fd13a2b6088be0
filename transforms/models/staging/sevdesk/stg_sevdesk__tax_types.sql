-- How sevDesk's two tax schemes map to the CDM tax_type (Lexware's vocabulary where it has the concept):
-- Update 2.0 documents carry a tax rule (scheme "taxRule", its id), older 1.0 documents a tax type (scheme
-- "taxType"). tax_type "net" stands for "taxable at the position's rate" and becomes "gross" on a document
-- whose prices are gross (showNet "0"). cdm.tax_rates names each type.
SELECT scheme, source_value, tax_type
FROM (
    VALUES
        ('taxRule', '1', 'net'),
        ('taxRule', '2', 'thirdPartyCountryDelivery'),
        ('taxRule', '3', 'intraCommunitySupply'),
        ('taxRule', '4', 'taxExempt4'),
        ('taxRule', '5', 'externalService13b'),
        ('taxRule', '8', 'intraCommunityAcquisition'),
        ('taxRule', '9', 'net'),
        ('taxRule', '10', 'nonDeductibleExpense'),
        ('taxRule', '11', 'vatfree'),
        ('taxRule', '12', 'reverseCharge13bExpense'),
        ('taxRule', '13', 'reverseCharge13bExpense'),
        ('taxRule', '14', 'reverseCharge13bExpense'),
        ('taxRule', '16', 'notTaxable'),
        ('taxRule', '17', 'thirdPartyCountryService'),
        ('taxRule', '18', 'oneStopShop'),
        ('taxRule', '19', 'oneStopShop'),
        ('taxRule', '20', 'oneStopShop'),
        ('taxRule', '21', 'reverseCharge18b'),
        ('taxRule', '22', 'notTaxable'),
        ('taxType', 'default', 'net'),
        ('taxType', 'eu', 'intraCommunitySupply'),
        ('taxType', 'noteu', 'thirdPartyCountryService'),
        ('taxType', 'ss', 'vatfree'),
        ('taxType', 'custom', 'customTaxSet')
) AS tax_types (scheme, source_value, tax_type)
