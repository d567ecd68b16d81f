"""``evalsurvey analyze``: the statistics run on the response interchange CSV alone.

No database and no Flask: read the CSV into arrays (:mod:`.reader`), run the
statistics (:mod:`.report`), print and write JSON.
"""
