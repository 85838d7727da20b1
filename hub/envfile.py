"""Write a local settings file with fresh secrets, once: `python -m hub.envfile var/hub.env`.

Used by `make run` so that a new machine gets its own SECRET_KEY, encryption key and
ingest secret without anyone inventing them. An existing file is left as it is.
"""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet


def main(path):
    target = Path(path)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written once by `make run`; the hub reads it at start. Keep it private.\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"HUB_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        f"INGEST_SECRET={secrets.token_urlsafe(32)}\n"
        "# The sandbox runs on loopback port 8001: let outbound requests reach it (that port\n"
        "# only: a bare host opens just 80 and 443).\n"
        "OUTBOUND_ALLOWED_HOSTS=127.0.0.1:8001,localhost:8001\n"
    )
    target.chmod(0o600)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "var/hub.env")
