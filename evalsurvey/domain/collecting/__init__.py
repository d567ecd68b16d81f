"""Collecting responses: questionnaire versions, links and invitations, the public answer
path, paper forms typed in, and the queue of suspect responses a person decides."""
