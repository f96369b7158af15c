#!/usr/bin/env python3
"""Creates an S3 bucket on the loopback moto server, a Blob container on Azurite or a GCS
bucket on fake-gcs-server, and uploads objects to fake-gcs-server.

object_store reads and writes objects but does not create buckets or containers, so the
storage integration tests (tests/it/storage.rs) call this first. Standard library only.

    create_container.py s3 http://127.0.0.1:PORT BUCKET
    create_container.py azure http://127.0.0.1:PORT/devstoreaccount1 CONTAINER ACCOUNT KEY
    create_container.py gcs http://127.0.0.1:PORT BUCKET
    create_container.py gcs-upload http://127.0.0.1:PORT BUCKET KEY FILE [KEY FILE ...]

The Azure request is signed with Shared Key (Azure Storage REST reference, "Authorize with
Shared Key"); moto and fake-gcs-server accept unsigned requests. GCS buckets are created and
objects uploaded with the JSON API (`buckets.insert`, `objects.insert` with
`uploadType=media`): fake-gcs-server rejects the XML-API PUT that object_store sends (see
docs/storage.md, "GCS"). Exits 0 when created or already there. Refuses any endpoint that is
not on the loopback interface.
"""

import base64
import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from email.utils import formatdate

AZURE_VERSION = "2021-08-06"


def loopback(endpoint: str) -> None:
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        sys.exit(f"create_container.py: {endpoint} is not a loopback address")


def send(req: urllib.request.Request) -> None:
    try:
        urllib.request.urlopen(req, timeout=30)
    except urllib.error.HTTPError as e:
        if e.code == 409:  # already exists
            return
        sys.exit(f"create_container.py: {req.full_url}: HTTP {e.code}: {e.read()[:500]!r}")


def s3(endpoint: str, bucket: str) -> None:
    send(urllib.request.Request(f"{endpoint.rstrip('/')}/{bucket}", method="PUT", data=b""))


def azure(endpoint: str, container: str, account: str, key: str) -> None:
    url = f"{endpoint.rstrip('/')}/{container}?restype=container"
    date = formatdate(usegmt=True)
    path = urllib.parse.urlsplit(url).path  # /devstoreaccount1/<container>
    # Azurite's path-style URLs carry the account in the path; the canonical resource
    # is /<account><path>.
    canonical_headers = f"x-ms-date:{date}\nx-ms-version:{AZURE_VERSION}\n"
    canonical_resource = f"/{account}{path}\nrestype:container"
    # VERB, Content-Encoding, -Language, -Length, -MD5, -Type, Date, If-Modified-Since,
    # If-Match, If-None-Match, If-Unmodified-Since, Range; a zero Content-Length is signed
    # as an empty line (versions 2015-02-21 and later).
    # urllib sends a Content-Type with any body, so one is set and signed.
    to_sign = "PUT" + "\n" * 5 + "application/octet-stream" + "\n" * 7 + canonical_headers + canonical_resource
    sig = base64.b64encode(hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()).decode()
    req = urllib.request.Request(url, method="PUT", data=b"")
    req.add_header("x-ms-date", date)
    req.add_header("x-ms-version", AZURE_VERSION)
    req.add_header("Content-Length", "0")
    req.add_header("Content-Type", "application/octet-stream")
    req.add_header("Authorization", f"SharedKey {account}:{sig}")
    send(req)


def gcs(endpoint: str, bucket: str) -> None:
    req = urllib.request.Request(f"{endpoint.rstrip('/')}/storage/v1/b", method="POST", data=json.dumps({"name": bucket}).encode())
    req.add_header("Content-Type", "application/json")
    send(req)


def gcs_upload(endpoint: str, bucket: str, pairs: list) -> None:
    """Uploads FILE as KEY for each (KEY, FILE); an existing KEY gets a new generation."""
    for key, path in pairs:
        with open(path, "rb") as f:
            body = f.read()
        name = urllib.parse.quote(key, safe="")
        req = urllib.request.Request(
            f"{endpoint.rstrip('/')}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}", method="POST", data=body
        )
        req.add_header("Content-Type", "application/octet-stream")
        send(req)


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "s3":
        loopback(sys.argv[2])
        s3(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "azure":
        loopback(sys.argv[2])
        azure(*sys.argv[2:6])
    elif len(sys.argv) == 4 and sys.argv[1] == "gcs":
        loopback(sys.argv[2])
        gcs(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 6 and len(sys.argv) % 2 == 0 and sys.argv[1] == "gcs-upload":
        loopback(sys.argv[2])
        rest = sys.argv[4:]
        gcs_upload(sys.argv[2], sys.argv[3], list(zip(rest[0::2], rest[1::2])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
