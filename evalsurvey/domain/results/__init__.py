"""What a cycle's numbers are: the typed result of a cycle (:mod:`.cycle`), the statistics
on its responses (:mod:`.analysis`), why a part has no score (:mod:`.shortfalls`), the
one-to-one feedback reports and the dashboards."""
