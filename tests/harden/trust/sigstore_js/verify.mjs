// A second, independent verifier for hullguard's Sigstore bundles: the npm @sigstore/verify
// library (offline, key-based, an empty trusted root: no transparency log, no CA).
// usage: node verify.mjs BUNDLE.json PUBLIC_KEY.pem IMAGE_DIGEST
// exit 0 and prints "verified" when the DSSE signature verifies with the key and the in-toto
// statement's subject carries IMAGE_DIGEST; exit 1 with the reason otherwise.
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(process.env.SIGSTORE_JS_DIR + '/');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const [bundlePath, keyPath, digest] = process.argv.slice(2);
try {
  const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')));
  const publicKey = createPublicKey(readFileSync(keyPath));
  const root = TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
  // any hint: the one key given is the one trusted (as `cosign verify --key`)
  const material = toTrustMaterial(root, () => ({ publicKey, validFor: () => true }));
  const verifier = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0,
                                            timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundle));
  const statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
  const [algorithm, hex] = digest.split(':');
  if (!statement.subject.some((s) => s.digest && s.digest[algorithm] === hex)) {
    throw new Error(`statement subject does not name ${digest}`);
  }
  console.log('verified ' + statement.predicateType);
} catch (error) {
  console.log('refused: ' + (error && error.message ? error.message : error));
  process.exit(1);
}
