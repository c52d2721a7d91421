"""Keys, signatures, attestations and their verification, interoperable with cosign.

* :mod:`.keys`: cosign's key files (encrypted private key, public key), sign and verify.
* :mod:`.formats`: simple signing payloads, in-toto statements, DSSE, Sigstore bundles v0.3.
* :mod:`.attach`: where they live in a registry (legacy ``.sig``/``.att`` tags, referrers).
* :mod:`.sign` / :mod:`.verify`: the operations the CLI runs.

See docs/trust.md for the formats written and which verifiers read them.
"""

from hullguard.harden.trust.attach import Target, resolve
from hullguard.harden.trust.sign import attest_image, sign_image
from hullguard.harden.trust.verify import Checked, verify_attestations, verify_signatures

__all__ = ["Checked", "Target", "attest_image", "resolve", "sign_image", "verify_attestations",
           "verify_signatures"]
