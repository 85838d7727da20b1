from django.core.management.base import BaseCommand

from hub.secrets import rotate_secrets


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of HUB_ENCRYPTION_KEYS."

    def handle(self, **options):
        self.stdout.write(f"Re-encrypted {rotate_secrets()} secrets with the newest key.")
