from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "samphan.accounts"
    label = "accounts"
    verbose_name = "Accounts and workspaces"
