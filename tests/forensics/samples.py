"""Sample records of every log source, shaped as each product documents them, and the hostile
lines every source must count as bad without crashing."""

from __future__ import annotations

import json
from typing import Any

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64


def j(doc: Any) -> bytes:
    return json.dumps(doc).encode() + b"\n"


def registry_line(**over: Any) -> dict[str, Any]:
    doc = {"go.version": "go1.19.8", "http.request.host": "reg:5000",
           "http.request.id": "5e4a", "http.request.method": "GET",
           "http.request.remoteaddr": "10.0.0.7:51234",
           "http.request.uri": "/v2/team/app/manifests/v1",
           "http.request.useragent": "containerd/1.7", "http.response.status": 200,
           "level": "info", "msg": "response completed", "auth.user.name": "alice",
           "time": "2026-03-02T10:00:00.123456789Z"}
    doc.update(over)
    return doc


def envelope(action: str, media: str, tag: str = "", digest: str = D1) -> dict[str, Any]:
    target = {"mediaType": media, "digest": digest, "repository": "team/app", "size": 10}
    if tag:
        target["tag"] = tag
    return {"events": [{"id": "e1", "timestamp": "2026-03-02T10:00:00Z", "action": action,
                        "target": target, "request": {"id": "r1", "addr": "10.0.0.7:5",
                                                      "host": "reg:5000", "method": "GET",
                                                      "useragent": "skopeo/1.9.3"},
                        "actor": {}, "source": {"addr": "reg:5000"}}]}


MANIFEST = "application/vnd.oci.image.manifest.v1+json"

GOOD: dict[str, list[bytes]] = {
    "distribution-log": [
        j(registry_line()),
        j(registry_line(**{"http.request.uri": f"/v2/team/app/manifests/{D1}"})),
        j(registry_line(**{"http.request.method": "PUT", "http.response.status": 201})),
        b'10.0.0.7 - - [02/Mar/2026:10:00:00 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "x"\n',
        j({"level": "info", "msg": "listening on 127.0.0.1:5000", "time": "2026-03-02T09:00Z"}),
    ],
    "distribution-events": [
        j(envelope("pull", MANIFEST, "v1")),
        # pretty-printed, as the registry sends it
        json.dumps(envelope("push", "application/octet-stream", digest=D2),
                   indent=3).encode() + b"\n",
    ],
    "harbor-audit": [
        j([{"id": 1, "username": "admin", "resource": "library/nginx:1.25",
            "resource_type": "artifact", "operation": "pull", "op_time": "2026-03-02T10:00:00Z"},
           {"id": 2, "username": "robot$ci", "resource": f"library/nginx@{D1}",
            "resource_type": "artifact", "operation": "create",
            "op_time": "2026-03-02T10:05:00Z"}]),
        j({"id": 3, "operation": "pull", "operation_description": "pull artifact",
           "is_successful": True, "resource_type": "artifact",
           "resource": "library/nginx:1.25", "username": "bob",
           "op_time": "2026-03-02T11:00:00Z"}),
    ],
    "harbor-webhook": [
        j({"type": "PUSH_ARTIFACT", "occur_at": 1772445600, "operator": "admin",
           "event_data": {"resources": [{"digest": D1, "tag": "v1",
                                         "resource_url": "harbor.local/library/app:v1"}],
                          "repository": {"name": "app", "namespace": "library",
                                         "repo_full_name": "library/app"}}}),
        j({"specversion": "1.0", "id": "x", "source": "/projects/1/webhook/policies/1",
           "type": "harbor.artifact.pulled", "time": "2026-03-02T10:00:00Z",
           "datacontenttype": "application/json", "operator": "bob",
           "data": {"resources": [{"digest": D1, "tag": "v1",
                                   "resource_url": "harbor.local/library/app:v1"}],
                    "repository": {"repo_full_name": "library/app"}}}),
    ],
    "dockerhub-audit": [
        j({"logs": [{"account": "acme", "action": "repo.tag.push", "name": "acme/api",
                     "actor": "alice", "data": {"digest": D1, "tag": "v1"},
                     "timestamp": "2026-03-02T10:00:00Z",
                     "action_description": "pushed the tag v1"},
                    {"account": "acme", "action": "team.member.add", "name": "acme",
                     "actor": "alice", "data": {}, "timestamp": "2026-03-02T10:01:00Z"}]}),
    ],
    "dockerhub-usage": [
        b"datehour,user_name,repository,access_token_name,ips,repository_privacy,tag,digest,"
        b"version_checks,pulls\n",
        b"2026/03/02/10,alice,acme/api,ci-token,3,private,v1," + D1.encode() + b",2,5\n",
        b"2026/03/02/11,,nginx,,1,public,latest,,4,0\n",
    ],
    "k8s-audit": [
        j({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
           "auditID": "a1", "stage": "ResponseComplete", "verb": "create",
           "requestURI": "/api/v1/namespaces/prod/pods", "user": {"username": "alice"},
           "sourceIPs": ["10.0.0.9"], "userAgent": "kubectl/v1.29",
           "objectRef": {"resource": "pods", "namespace": "prod", "name": "api"},
           "responseStatus": {"code": 201},
           "requestObject": {"spec": {"containers": [{"name": "a", "image": "acme/api:v1"},
                                                     {"name": "b", "image": f"x/y@{D1}"}]}},
           "stageTimestamp": "2026-03-02T10:00:00.5Z"}),
        j({"kind": "Event", "stage": "RequestReceived", "verb": "get",
           "stageTimestamp": "2026-03-02T10:00:00Z"}),
    ],
    "k8s-events": [
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [
            {"kind": "Event", "reason": "Pulled", "type": "Normal", "count": 2,
             "message": 'Successfully pulled image "acme/api:v1" in 1.2s',
             "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "api-1"},
             "source": {"component": "kubelet", "host": "node-a"},
             "firstTimestamp": "2026-03-02T10:00:00Z", "lastTimestamp": "2026-03-02T10:05:00Z"},
            {"kind": "Event", "reason": "Scheduled", "message": "assigned",
             "lastTimestamp": "2026-03-02T10:00:00Z"}]}, indent=4).encode() + b"\n",
    ],
    "cri-log": [
        b"2026-03-02T10:00:00.123456789Z stdout F listening on :8080\n",
        b"2026-03-02T10:00:01.000000000Z stderr P partial \xff line\n",
    ],
    "docker-log": [
        j({"log": "GET /health 200\n", "stream": "stdout", "time": "2026-03-02T10:00:00.1Z"}),
    ],
}

# Events each GOOD sample yields, and ones it ignores (records with no event).
EXPECTED = {"distribution-log": (3, 2), "distribution-events": (2, 0), "harbor-audit": (3, 0),
            "harbor-webhook": (2, 0), "dockerhub-audit": (2, 0), "dockerhub-usage": (2, 1),
            "k8s-audit": (2, 1), "k8s-events": (1, 1), "cri-log": (2, 0), "docker-log": (1, 0)}

HUGE = b'{"x": "' + b"A" * (2 << 20) + b'"}\n'
DEEP = b"[" * 100_000 + b"]" * 100_000 + b"\n"
NOT_UTF8 = b'{"time": "\xff\xfe"}\n'

# Hostile lines per source: wrong types and missing fields as each format would carry them.
HOSTILE: dict[str, list[bytes]] = {
    "distribution-log": [j(registry_line(**{"http.response.status": "200"})),
                         j(registry_line(**{"time": 12})), j(registry_line(time="yesterday")),
                         j(registry_line(**{"http.request.uri": ["x"]})),
                         # an empty object where a string belongs (DuckDB would infer a MAP)
                         j(registry_line(**{"auth.user.name": {}}))],
    "distribution-events": [j({"events": [{"action": "steal"}]}),
                            j({"events": [{**envelope("pull", MANIFEST)["events"][0],
                                           "target": "x"}]}),
                            j({"events": [{**envelope("pull", MANIFEST)["events"][0],
                                           "timestamp": None}]})],
    "harbor-audit": [j({"operation": "pull", "op_time": 5}), j({"username": "x"}),
                     j({"operation": "pull", "op_time": "2026-03-02T10:00:00Z",
                        "is_successful": "yes"})],
    "harbor-webhook": [j({"type": "PUSH_ARTIFACT", "occur_at": "soon"}),
                       j({"type": "PUSH_ARTIFACT", "occur_at": 1, "event_data": {
                           "resources": "all"}}), j({"occur_at": 1})],
    "dockerhub-audit": [j({"logs": [{"action": "repo.tag.push", "timestamp": "now"}]}),
                        j({"logs": [{"action": 7}]}), j({"logs": ["text"]})],
    "dockerhub-usage": [b"2026-03-02,alice,acme/api,t,1,private,v1,,0,5\n",
                        b"2026/03/02/10,alice,acme/api,t,1,private,v1,,0,many\n",
                        b"2026/03/02/10,too,few\n"],
    "k8s-audit": [j({"verb": "create", "stage": "ResponseComplete", "sourceIPs": "10.0.0.1",
                     "stageTimestamp": "2026-03-02T10:00:00Z"}),
                  j({"verb": "create", "stageTimestamp": "2026-03-02T10:00:00Z",
                     "responseStatus": {"code": "201"}}), j({"stage": "ResponseComplete"})],
    "k8s-events": [j({"reason": "Pulled", "message": 'pulled image "a:b"'}),
                   j({"reason": "Pulled", "message": 'pulled image "a:b"', "count": "2",
                      "lastTimestamp": "2026-03-02T10:00:00Z"}),
                   j({"reason": "Pulled", "message": 'pulled image "a:b"',
                      "involvedObject": [], "lastTimestamp": "2026-03-02T10:00:00Z"})],
    "cri-log": [b"not a cri line\n", b"2026-03-02T10:00:00Z stdin F x\n",
                b"yesterday stdout F x\n"],
    "docker-log": [j({"stream": "stdout"}), j({"log": 5, "time": "2026-03-02T10:00:00Z"}),
                   j({"log": "x", "time": "soon"})],
}
GENERIC = [HUGE, DEEP, NOT_UTF8, b"{truncated\n"]  # plus these on every JSON source
