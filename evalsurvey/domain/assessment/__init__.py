"""The assessment of units: schemes and inspectors' findings with their evidence, department
consultation, the composite, grades and the two-level grade review, the standing score,
publication (公示) with its objections, and the rectification ledger."""
