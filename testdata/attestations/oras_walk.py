"""Walks an attested image with the oras Python SDK (an OCI client independent of ours):
the index at REF, each attestation manifest, its in-toto statements, and the OCI 1.1
referrers tag-schema fallback. Prints one JSON summary for the test to check."""
import json
import sys

import oras.client

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def main(host, repo, tag):
    client = oras.client.OrasClient(hostname=host, insecure=True)
    index = client.get_manifest(f"{host}/{repo}:{tag}", allowed_media_type=[INDEX])
    images, attestations = {}, {}
    for entry in index["manifests"]:
        ref_type = entry.get("annotations", {}).get("vnd.docker.reference.type")
        if ref_type != "attestation-manifest":
            platform = entry["platform"]
            images[entry["digest"]] = f"{platform['os']}/{platform['architecture']}"
            continue
        subject = entry["annotations"]["vnd.docker.reference.digest"]
        manifest = client.get_manifest(
            f"{host}/{repo}@{entry['digest']}", allowed_media_type=[MANIFEST]
        )
        kinds = []
        for layer in manifest["layers"]:
            body = client.get_blob(f"{host}/{repo}", layer["digest"]).json()
            assert body["subject"][0]["digest"]["sha256"] == subject[7:], body["subject"]
            assert manifest["subject"]["digest"] == subject
            kinds.append(body["predicateType"])
        attestations[subject] = sorted(kinds)
    referrers = {}
    for digest in images:
        fallback = client.get_manifest(
            f"{host}/{repo}:sha256-{digest[7:]}", allowed_media_type=[INDEX]
        )
        referrers[digest] = [m["digest"] for m in fallback["manifests"]]
    json.dump({"images": images, "attestations": attestations, "referrers": referrers}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:4])
