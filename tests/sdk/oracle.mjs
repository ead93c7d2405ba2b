// Signatures made by providers' official npm SDKs, for tests/sdk.rs (same protocol as
// oracle.py: one JSON request on stdin, one JSON answer on stdout).
//
//   {"op": "sign", "requests": [{"provider", "secret", "body", "timestamp"}, ...]}
//   -> {"results": [{"headers", "sdk", "sdk_accepts", "body"?}, ...]}
//
// GitHub (@octokit/webhooks-methods sign/verify) and Shopify (@shopify/shopify-api's
// test-helpers getHmac) sign; Linear's SDK only verifies (LinearWebhookClient.verify), so the
// body is signed with node:crypto and the SDK must accept it.
import { createHmac } from "node:crypto";
import { sign, verify } from "@octokit/webhooks-methods";
import { getHmac } from "@shopify/shopify-api/test-helpers";
import { LinearWebhookClient } from "@linear/sdk/webhooks";

const signers = {
  async github(r) {
    const signature = await sign(r.secret, r.body);
    const ok = await verify(r.secret, r.body, signature);
    return { headers: { "X-Hub-Signature-256": signature }, sdk: "@octokit/webhooks-methods sign", sdk_accepts: ok };
  },
  async shopify(r) {
    const signature = getHmac(r.body, r.secret);
    return { headers: { "X-Shopify-Hmac-Sha256": signature }, sdk: "@shopify/shopify-api getHmac", sdk_accepts: true };
  },
  async linear(r) {
    // The SDK requires the signed body to carry `webhookTimestamp` (ms) close to now.
    const body = JSON.stringify({ ...JSON.parse(r.body), webhookTimestamp: r.timestamp * 1000 });
    const signature = createHmac("sha256", r.secret).update(body).digest("hex");
    let ok;
    try {
      ok = new LinearWebhookClient(r.secret).verify(Buffer.from(body), signature);
    } catch {
      ok = false;
    }
    return { headers: { "Linear-Signature": signature }, sdk: "@linear/sdk LinearWebhookClient.verify (oracle)", sdk_accepts: ok, body };
  },
};

let input = "";
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
if (request.op !== "sign") throw new Error(`unknown op ${request.op}`);
const results = [];
for (const r of request.requests) results.push(await signers[r.provider](r));
process.stdout.write(JSON.stringify({ results }));
