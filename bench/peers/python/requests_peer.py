"""Plain Python `requests`: GET the page on one session, `json()`, write each entry's resource
as one NDJSON line, follow `next`.

Usage: python requests_peer.py BASE_URL > out.ndjson
"""

import json
import sys

import requests


def main(base: str) -> None:
    session = requests.Session()
    session.headers["Accept"] = "application/fhir+json"
    out = sys.stdout
    url = f"{base}/Patient?_count=100"
    while url:
        response = session.get(url)
        response.raise_for_status()
        page = response.json()
        for entry in page.get("entry", []):
            if "resource" in entry:
                out.write(json.dumps(entry["resource"], separators=(",", ":"), ensure_ascii=False))
                out.write("\n")
        url = next(
            (link["url"] for link in page.get("link", []) if link.get("relation") == "next"),
            None,
        )
    out.flush()


if __name__ == "__main__":
    main(sys.argv[1])
