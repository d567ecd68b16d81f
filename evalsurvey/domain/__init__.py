"""Domain functions shared by the HTML views, the JSON API and the commands.

Each rule (how an answer is parsed, how a response is stored once, what the
interchange CSV looks like) is written here once.
"""
