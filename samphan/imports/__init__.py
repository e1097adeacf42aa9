"""Bulk import of customers and orders (issue 3).

Its own app rather than a module of customers/: it writes customers and
commerce data alike, and it owns a model (ImportRun), a Celery task, a
management command and UI views, each of which Django finds per app.
"""
