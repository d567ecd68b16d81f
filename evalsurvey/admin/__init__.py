"""The staff side: units, cycles, rater groups, questionnaires, links, responses."""
