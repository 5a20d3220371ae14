"""Questionnaires an office sends to a dossier's client, answered step by step, finished
into a PDF on the dossier's "delivered" tab."""
