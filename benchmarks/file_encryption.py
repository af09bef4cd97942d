"""What encrypting uploads at rest costs: MB/s to encrypt and to decrypt a call recording.

    python benchmarks/file_encryption.py [--megabytes 50]

Encrypts N MB of random bytes (as incompressible as audio) from memory to a scratch file with
`security.files.encrypt_stream`, then streams it back through `open_decrypted` in the 4 KiB
reads a download makes. Prints one JSON line: MB, seconds and MB/s each way, and the bytes the
format adds on disk.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

from bankdesk.security.crypto import KeyRing
from bankdesk.security.files import encrypt_stream, open_decrypted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    content = os.urandom(args.megabytes * 1024 * 1024)
    ring = KeyRing("kbench", {"kbench": os.urandom(32)}, os.urandom(32), source="benchmark")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recording"
        started = time.perf_counter()
        with path.open("wb") as sink:
            encrypt_stream(io.BytesIO(content), sink, name="attachments/recording", ring=ring)
        encrypting = time.perf_counter() - started
        started = time.perf_counter()
        reader = open_decrypted(path, name="attachments/recording", ring=ring)
        size = sum(len(part) for part in iter(lambda: reader.read(4096), b""))
        decrypting = time.perf_counter() - started
        assert size == len(content)
        overhead = path.stat().st_size - len(content)
    print(
        json.dumps(
            {
                "megabytes": args.megabytes,
                "encrypt_seconds": round(encrypting, 3),
                "encrypt_mb_s": round(args.megabytes / encrypting),
                "decrypt_seconds": round(decrypting, 3),
                "decrypt_mb_s": round(args.megabytes / decrypting),
                "overhead_bytes": overhead,
            }
        )
    )


if __name__ == "__main__":
    main()
