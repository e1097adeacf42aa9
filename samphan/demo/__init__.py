"""Realistic Thai and English demo data, generated in bulk (`samphan demo-data`)."""
