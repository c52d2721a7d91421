"""A live cluster through the official ``kubernetes`` client and the user's kubeconfig.

Objects are listed as raw JSON (``_preload_content``-style, no model classes) so that a live
cluster goes through exactly the code that reads ``kubectl get ... -o json`` dumps. Listing is
paged (``limit``/``continue``); a resource the API does not serve (no Gateway API CRDs) is
skipped, one we may not list is a warning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hullguard.errors import AuthError, InputError, LimitExceeded
from hullguard.inventory.kubernetes import KubeObject, flatten
from hullguard.inventory.yamlsafe import dict_at, list_at
from hullguard.model.inventory import SourceKind

RESOURCES = (
    ("Namespace", "/api/v1/namespaces"),
    ("Pod", "/api/v1/pods"),
    ("Service", "/api/v1/services"),
    ("Deployment", "/apis/apps/v1/deployments"),
    ("StatefulSet", "/apis/apps/v1/statefulsets"),
    ("DaemonSet", "/apis/apps/v1/daemonsets"),
    ("ReplicaSet", "/apis/apps/v1/replicasets"),
    ("Job", "/apis/batch/v1/jobs"),
    ("CronJob", "/apis/batch/v1/cronjobs"),
    ("Ingress", "/apis/networking.k8s.io/v1/ingresses"),
    ("HTTPRoute", "/apis/gateway.networking.k8s.io/v1/httproutes"),
    ("GRPCRoute", "/apis/gateway.networking.k8s.io/v1/grpcroutes"),
    ("TLSRoute", "/apis/gateway.networking.k8s.io/v1alpha2/tlsroutes"),
)
PAGE_SIZE = 500
MAX_PAGES = 1000
TIMEOUT = (5.0, 60.0)  # connect, read


def _client(kubeconfig: str | Path | None, context: str | None) -> tuple[Any, str]:
    """An ApiClient for the kubeconfig/context, and the name of the context used."""
    try:
        from kubernetes import config
    except ImportError:
        raise InputError("the 'kubernetes' package is not installed",
                         hint="pip install 'hullguard[kubernetes]'") from None
    config_file = str(kubeconfig) if kubeconfig else None
    try:
        _contexts, active = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=config_file)
        name = context or (active or {}).get("name", "")
        client = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=config_file, context=context, persist_config=False)
    except (config.ConfigException, OSError, ValueError, TypeError) as error:
        raise InputError(f"cannot use kubeconfig: {error}", where=config_file or "~/.kube/config",
                         hint="check --kubeconfig and --context") from None
    return client, name


def _get_page(client: Any, path: str, token: str) -> tuple[int, bytes]:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    query: list[tuple[str, Any]] = [("limit", PAGE_SIZE)] + ([("continue", token)] if token else [])
    method, url, headers, _body, _post = client.param_serialize(
        "GET", path, query_params=query, header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"])
    try:
        response = client.call_api(method, url, header_params=headers, _request_timeout=TIMEOUT)
        return int(response.status), bytes(response.read())
    except ApiException as error:
        return int(error.status or 0), b""
    except HTTPError as error:
        raise InputError(f"cannot reach the cluster API: {error}", where=url,
                         hint="check the cluster address in the kubeconfig") from None


def _list(client: Any, kind: str, path: str, source: str) -> tuple[list[dict[str, Any]], str]:
    """Every item of one resource across namespaces; (items, warning)."""
    items: list[dict[str, Any]] = []
    token = ""
    for _ in range(MAX_PAGES):
        status, body = _get_page(client, path, token)
        if status == 404:
            return items, ""  # resource not served (e.g. no Gateway API CRDs)
        if status == 401:
            raise AuthError("the cluster rejected the credentials", where=source)
        if status != 200:
            return items, f"cannot list {kind} ({path}): HTTP {status}"
        page = _page(body, f"{source}{path}")
        items.extend(i for i in list_at(page, "items") if isinstance(i, dict))
        token = str(dict_at(page, "metadata").get("continue") or "")
        if not token:
            return items, ""
    raise LimitExceeded(f"more than {MAX_PAGES} pages of {kind}", where=source)


def _page(body: bytes, where: str) -> dict[str, Any]:
    try:
        page = json.loads(body)
    except ValueError:
        raise InputError("the API answered something that is not JSON", where=where) from None
    if not isinstance(page, dict):
        raise InputError("the API answered a JSON value that is not a list object", where=where)
    return page


def fetch_objects(kubeconfig: str | Path | None, context: str | None
                  ) -> tuple[str, list[KubeObject], list[tuple[int, str]]]:
    """(source name ``cluster:<context>``, objects, warnings) from the live cluster."""
    client, name = _client(kubeconfig, context)
    source = f"cluster:{name or 'default'}"
    objects: list[KubeObject] = []
    warnings: list[tuple[int, str]] = []
    try:
        for kind, path in RESOURCES:
            items, warning = _list(client, kind, path, source)
            if warning:
                warnings.append((0, warning))
            listing = {"kind": f"{kind}List", "apiVersion": "v1", "items": items}
            objects.extend(flatten(listing, source, 0, "", SourceKind.CLUSTER))
    finally:
        client.close()
    return source, objects, warnings
