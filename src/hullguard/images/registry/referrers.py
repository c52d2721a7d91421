"""The OCI 1.1 referrers API (``GET /v2/<name>/referrers/<digest>``), read-only.

Registries without it (Debian's docker-registry, distribution 2.x) answer 404; callers then
use the referrers tag schema (an index under the tag ``<alg>-<hex>``) instead.
"""

from __future__ import annotations

from urllib.parse import quote

from hullguard.images.manifest import MAX_MANIFEST_BYTES, OCI_INDEX
from hullguard.images.registry.client import RegistryClient, _pull
from hullguard.model import Digest


def get_referrers(client: RegistryClient, repository: str, digest: Digest,
                  artifact_type: str = "") -> bytes | None:
    """The referrers index the registry keeps for ``digest`` (bounded), or None when the
    registry does not implement the API."""
    where = f"{client.host}/{repository}@{digest} referrers"
    path = f"/v2/{repository}/referrers/{digest}"
    if artifact_type:
        path += "?artifactType=" + quote(artifact_type, safe="")
    # the client's transport (auth, redirects, budgets) is shared; the path is the only news
    with client._request("GET", path, _pull(repository), where,
                         headers={"Accept": OCI_INDEX}, allow=(404,)) as response:
        if response.status_code == 404:
            return None
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        body = client._read_bounded(response, MAX_MANIFEST_BYTES, where)
    return body if media_type == OCI_INDEX else None
