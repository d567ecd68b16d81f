"""The response interchange CSV's fixed columns: one definition for every reader and writer.

UTF-8, a header row, one response per row: these columns, then one column per item
code, then ``comment``. No dependencies, so the statistics command can use it alone.
"""

HEAD = [
    "response_id",
    "questionnaire",
    "unit",
    "rater_group",
    "rater",
    "rater_unit",
    "channel",
    "device",
    "started_at",
    "submitted_at",
]
TAIL = ["comment"]
# an item code may not shadow a fixed column
RESERVED = frozenset(HEAD + TAIL)
