"""Social listening: topics, mentions from X, Facebook, RSS/Atom and uploads, and the dashboard.

Map: ``models.py`` (tables), ``matching.py`` (topic rules on Thai tokens and English words),
``ingest.py`` (the one write path for mentions: dedupe, sentiment, topics, customer link,
priority, rollups, spike alerts), ``connectors/`` (X API v2, RSS/Atom, Facebook feed, file
upload), ``spikes.py`` (the alert rule), ``selectors.py`` (dashboard reads from the rollups),
``services.py`` (topics, sources, label corrections, mention → conversation). See
docs/listening.md.
"""
