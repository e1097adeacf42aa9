"""The brand-voice guard: every outgoing reply is checked before it is sent.

``samphan.guard.services.check(text=…, workspace=…, author=…)`` flags profanity (Thai and
English), rude or dismissive phrasing, Thai sentences without a polite particle, shouting and
the workspace's banned phrases, says why for each (in English and Thai, with the span), and
suggests a polite rewrite. ``guard_enforce`` is what a sending service calls: a flagged reply
raises ``GuardBlocked`` (HTTP 422 with the findings), unless a manager overrides it with a
reason, which is audited. The rules themselves are in ``checker.py``; see docs/guard.md.
"""
