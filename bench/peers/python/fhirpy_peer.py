"""fhirpy (PyPI), its async client: search Patient 100 per page, iterate every page (the
search set's async iterator follows `next`), write each resource as one NDJSON line.

Usage: python fhirpy_peer.py BASE_URL > out.ndjson
"""

import asyncio
import json
import sys

from fhirpy import AsyncFHIRClient


async def main(base: str) -> None:
    client = AsyncFHIRClient(base)
    out = sys.stdout
    async for patient in client.resources("Patient").limit(100):
        out.write(json.dumps(patient.serialize(), separators=(",", ":"), ensure_ascii=False))
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
