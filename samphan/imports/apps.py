from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Bulk import of customers and orders from CSV / XLSX (CLI and web)."""

    name = "samphan.imports"
    label = "imports"
    verbose_name = "Imports"
    default_auto_field = "django.db.models.BigAutoField"
