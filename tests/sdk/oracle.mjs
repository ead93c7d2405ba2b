// Signatures made by providers' official npm SDKs, for tests/it/sdk.rs (same protocol as
// oracle.py: one JSON request on stdin, one JSON answer on stdout).
//
//   {"op": "sign", "requests": [{"provider", "secret", "body", "timestamp"}, ...]}
//   -> {"results": [{"headers", "sdk", "sdk_accepts", "body"?}, ...]}
//
// These SDKs sign: GitHub (@octokit/webhooks-methods; 4.1.0 for legacy SHA-1), Shopify
// (@shopify/shopify-api test-helpers getHmac), Sanity (@sanity/webhook), WorkOS
// (@workos-inc/node), Pusher (pusher Token.sign), Metronome (@metronome/sdk), Hygraph
// (@hygraph/utils generateWebhookSignature), Contentful (@contentful/node-apps-toolkit
// signRequest). These only verify, so the body is signed with node:crypto and the SDK must
// accept it: Linear, Mux, Replicate, Polar, Onfido, Zoom, Liveblocks, LINE, Webflow, Terra,
// Cashfree, Viber, Unit, Privy, Nango, Hookdeck, Cronofy, MailerSend, Surge, Creem, Acuity,
// Kontent.ai, Trigger.dev, Moralis, and AWS SNS (sns-validator, which fetches the signing
// certificate itself: from the test's key host, trusted through NODE_EXTRA_CA_CERTS, with
// `r.host_pattern` as its host rule).
//
//   {"op": "jwt", "requests": [{"provider", "claims", "private", "kid", "domain"}, ...]}
//   -> {"results": [{"token", "sdk", "sdk_accepts"}, ...]}
//
// Kinde's body tokens are signed with node:crypto (RS256) and checked by @kinde/webhooks
// `decodeWebhook`, which fetches `<domain>/.well-known/jwks.json` (a local test host, trusted
// through NODE_EXTRA_CA_CERTS). Wix's body tokens are signed the same way and checked by
// @wix/sdk (`AppStrategy` with the app's public key, `webhooks.parseJWT`).
import { createHmac, createSign } from "node:crypto";
import { decodeWebhook as kindeDecode } from "@kinde/webhooks";
import { createClient, AppStrategy } from "@wix/sdk";
import { sign, verify } from "@octokit/webhooks-methods";
import { sign as signV4, verify as verifyV4 } from "@octokit/webhooks-methods-v4";
import { getHmac } from "@shopify/shopify-api/test-helpers";
import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { encodeSignatureHeader, isValidSignature } from "@sanity/webhook";
import { WorkOS } from "@workos-inc/node";
import Mux from "@mux/mux-node";
import Pusher from "pusher";
import { validateWebhook } from "replicate";
import { validateEvent } from "@polar-sh/sdk/webhooks";
import { WebhookEventVerifier } from "@onfido/api";
import { AwsLambdaReceiver } from "@zoom/rivet/meetings";
import { WebhookHandler } from "@liveblocks/node";
import { validateSignature as lineValidate } from "@line/bot-sdk";
import { WebflowClient } from "webflow-api";
import { verifyTerraWebhookSignature } from "terra-api";
import { Cashfree, CFEnvironment } from "cashfree-pg";
import Metronome from "@metronome/sdk";
import { Unit } from "@unit-finance/unit-node-sdk";
import { PrivyClient } from "@privy-io/node";
import { Nango } from "@nangohq/node";
import Cronofy from "cronofy";
import Surge from "@surgeapi/node";
import { createCreem } from "creem_io";
import acuity from "acuityscheduling";
import { signatureHelper as kontentSignatures } from "@kontent-ai/webhook-helper";
import { webhooks as triggerWebhooks } from "@trigger.dev/sdk";
import Moralis from "moralis";
import { signRequest, verifyRequest } from "@contentful/node-apps-toolkit";
// Keccak-256 from the library the moralis SDK itself hashes with (one of its dependencies).
import { keccak256 } from "ethereumjs-util";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// viber-bot exposes its validator only as a CommonJS file; so does AWS's sns-validator.
const MessageValidator = require("viber-bot/lib/message/message-validator.js");
// mailersend 3.4.0's README imports MailerSendUtils from the package, but its index does not
// export it yet; the class is in this file.
const { MailerSendUtils } = require("mailersend/lib/services/mailersend.utils.js");
const { verifyWebhookSignature: hookdeckVerify } = require("@hookdeck/sdk/webhooks/helpers");
// @hygraph/utils is CommonJS too.
const hygraph = require("@hygraph/utils");
const SnsValidator = require("sns-validator");

const hmacHex = (key, text) => createHmac("sha256", key).update(text).digest("hex");
const accepts = async (check) => {
  try {
    return (await check()) !== false;
  } catch {
    return false;
  }
};

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
  async "github-sha1"(r) {
    const signature = await signV4({ secret: r.secret, algorithm: "sha1" }, r.body);
    const ok = await verifyV4(r.secret, r.body, signature);
    return { headers: { "X-Hub-Signature": signature }, sdk: "@octokit/webhooks-methods 4.1.0 sign (sha1)", sdk_accepts: ok };
  },
  async sanity(r) {
    const header = await encodeSignatureHeader(r.body, r.timestamp * 1000, r.secret);
    const ok = await isValidSignature(r.body, header, r.secret);
    return { headers: { "sanity-webhook-signature": header }, sdk: "@sanity/webhook encodeSignatureHeader", sdk_accepts: ok };
  },
  async workos(r) {
    // 8.x signs JSON.stringify of the parsed payload, which is the compact body itself.
    const webhooks = new WorkOS("sk_test_oracle").webhooks;
    const t = r.timestamp * 1000;
    const payload = JSON.parse(r.body);
    const header = `t=${t}, v1=${await webhooks.computeSignature(t, payload, r.secret)}`;
    const ok = await accepts(() => webhooks.verifyHeader({ payload, sigHeader: header, secret: r.secret }));
    return { headers: { "WorkOS-Signature": header }, sdk: "@workos-inc/node webhooks.computeSignature", sdk_accepts: ok };
  },
  async pusher(r) {
    const key = "oracle-app-key";
    const headers = { "x-pusher-key": key, "x-pusher-signature": new Pusher.Token(key, r.secret).sign(r.body) };
    const pusher = new Pusher({ appId: "1", key, secret: r.secret, cluster: "mt1" });
    const ok = pusher.webhook({ headers: { ...headers, "content-type": "application/json" }, rawBody: r.body }).isValid();
    return { headers, sdk: "pusher Token.sign", sdk_accepts: ok };
  },
  async mux(r) {
    const headers = { "mux-signature": `t=${r.timestamp},v1=${hmacHex(r.secret, `${r.timestamp}.${r.body}`)}` };
    const mux = new Mux({ tokenId: "oracle", tokenSecret: "oracle", webhookSecret: r.secret });
    const ok = await accepts(() => mux.webhooks.verifySignature(r.body, headers));
    return { headers, sdk: "@mux/mux-node webhooks.verifySignature (oracle)", sdk_accepts: ok };
  },
  async replicate(r) {
    const key = Buffer.from(r.secret.split("_").pop(), "base64");
    const signature = createHmac("sha256", key).update(`${r.msg_id}.${r.timestamp}.${r.body}`).digest("base64");
    const headers = { "webhook-id": r.msg_id, "webhook-timestamp": String(r.timestamp), "webhook-signature": `v1,${signature}` };
    const ok = await accepts(() => validateWebhook({ headers, body: r.body }, r.secret));
    return { headers, sdk: "replicate validateWebhook (oracle)", sdk_accepts: ok };
  },
  async polar(r) {
    // Polar keys HMAC with the secret's UTF-8 bytes, not a base64 `whsec_` value.
    const signature = createHmac("sha256", Buffer.from(r.secret, "utf8")).update(`${r.msg_id}.${r.timestamp}.${r.body}`).digest("base64");
    const headers = { "webhook-id": r.msg_id, "webhook-timestamp": String(r.timestamp), "webhook-signature": `v1,${signature}` };
    const ok = await accepts(() => validateEvent(r.body, headers, r.secret));
    return { headers, sdk: "@polar-sh/sdk validateEvent (oracle)", sdk_accepts: ok };
  },
  async onfido(r) {
    const signature = hmacHex(r.secret, r.body);
    const ok = await accepts(() => new WebhookEventVerifier(r.secret).readPayload(r.body, signature));
    return { headers: { "X-SHA2-Signature": signature }, sdk: "@onfido/api WebhookEventVerifier (oracle)", sdk_accepts: ok };
  },
  async zoom(r) {
    // @zoom/rivet verifies inside its receivers; the Lambda one can be called directly.
    const ts = String(r.timestamp);
    const headers = { "x-zm-request-timestamp": ts, "x-zm-signature": `v0=${hmacHex(r.secret, `v0:${ts}:${r.body}`)}` };
    const receiver = new AwsLambdaReceiver({ webhooksSecretToken: r.secret });
    receiver.init({ eventEmitter: { emit: async () => {} } });
    const debug = console.debug;
    console.debug = () => {};
    const answer = await receiver.start()({ headers, body: r.body, isBase64Encoded: false }, {});
    console.debug = debug;
    return { headers, sdk: "@zoom/rivet AwsLambdaReceiver (oracle)", sdk_accepts: answer.statusCode === 200 };
  },
  async liveblocks(r) {
    const key = Buffer.from(r.secret.replace(/^whsec_/, ""), "base64");
    const signature = createHmac("sha256", key).update(`${r.msg_id}.${r.timestamp}.${r.body}`).digest("base64");
    const headers = { "webhook-id": r.msg_id, "webhook-timestamp": String(r.timestamp), "webhook-signature": `v1,${signature}` };
    const ok = await accepts(() => new WebhookHandler(r.secret).verifyRequest({ headers, rawBody: r.body }));
    return { headers, sdk: "@liveblocks/node WebhookHandler.verifyRequest (oracle)", sdk_accepts: ok };
  },
  async line(r) {
    const signature = createHmac("sha256", r.secret).update(r.body).digest("base64");
    const ok = await accepts(() => lineValidate(r.body, r.secret, signature));
    return { headers: { "x-line-signature": signature }, sdk: "@line/bot-sdk validateSignature (oracle)", sdk_accepts: ok };
  },
  async webflow(r) {
    const ts = String(r.timestamp * 1000);
    const headers = { "x-webflow-timestamp": ts, "x-webflow-signature": hmacHex(r.secret, `${ts}:${r.body}`) };
    const client = new WebflowClient({ accessToken: "oracle" });
    const ok = await accepts(() => client.webhooks.verifySignature({ headers, body: r.body, secret: r.secret }));
    return { headers, sdk: "webflow-api webhooks.verifySignature (oracle)", sdk_accepts: ok };
  },
  async terra(r) {
    const header = `t=${r.timestamp},v1=${hmacHex(r.secret, `${r.timestamp}.${r.body}`)}`;
    const ok = await accepts(() => verifyTerraWebhookSignature(r.body, header, r.secret));
    return { headers: { "terra-signature": header }, sdk: "terra-api verifyTerraWebhookSignature (oracle)", sdk_accepts: ok };
  },
  async cashfree(r) {
    const ts = String(r.timestamp * 1000);
    const signature = createHmac("sha256", r.secret).update(ts + r.body).digest("base64");
    const cashfree = new Cashfree(CFEnvironment.SANDBOX, "oracle", r.secret);
    const ok = await accepts(() => cashfree.PGVerifyWebhookSignature(signature, r.body, ts));
    return { headers: { "x-webhook-timestamp": ts, "x-webhook-signature": signature }, sdk: "cashfree-pg PGVerifyWebhookSignature (oracle)", sdk_accepts: ok };
  },
  async moralis(r) {
    // A keyed plain hash: Keccak-256 of the JSON text followed by the streams secret.
    const signature = "0x" + keccak256(Buffer.from(r.body + r.secret, "utf8")).toString("hex");
    if (!Moralis.Core.isStarted) await Moralis.start({ streamsSecret: r.secret });
    const ok = await accepts(() => Moralis.Streams.verifySignature({ body: JSON.parse(r.body), signature }));
    return { headers: { "x-signature": signature }, sdk: "moralis Streams.verifySignature (oracle)", sdk_accepts: ok };
  },
  async hygraph(r) {
    const signature = hygraph.generateWebhookSignature({ rawPayload: r.body, secret: r.secret, environmentName: "master" });
    const ok = hygraph.verifyWebhookSignature({ rawPayload: r.body, signature, secret: r.secret });
    return { headers: { "gcms-signature": signature }, sdk: "@hygraph/utils generateWebhookSignature", sdk_accepts: ok };
  },
  async contentful(r) {
    const request = {
      method: "POST",
      path: new URL(r.url).pathname,
      headers: { "X-Contentful-Topic": "ContentManagement.Entry.publish" },
      body: r.body,
    };
    const signed = signRequest(r.secret, request, r.timestamp * 1000);
    const headers = { ...request.headers, ...signed };
    const ok = await accepts(() => verifyRequest(r.secret, { ...request, headers }, 0));
    return { headers, sdk: "@contentful/node-apps-toolkit signRequest", sdk_accepts: ok };
  },
  async viber(r) {
    const signature = hmacHex(r.secret, r.body);
    const ok = new MessageValidator({ debug() {} }, r.secret).validateMessage(signature, r.body);
    return { headers: { "X-Viber-Content-Signature": signature }, sdk: "viber-bot MessageValidator (oracle)", sdk_accepts: ok };
  },
  async metronome(r) {
    const webhooks = new Metronome({ bearerToken: "oracle", webhookSecret: r.secret }).webhooks;
    const date = new Date(r.timestamp * 1000).toUTCString();
    const headers = { "X-Metronome-Date": date, "Metronome-Webhook-Signature": webhooks.signPayload(r.body, { date, secret: r.secret }) };
    const ok = await accepts(() => webhooks.verifySignature(r.body, headers, r.secret));
    return { headers, sdk: "@metronome/sdk webhooks.signPayload", sdk_accepts: ok };
  },
  async unit(r) {
    // The SDK checks the parsed payload serialized again: the compact body itself.
    const signature = createHmac("sha1", r.secret).update(r.body).digest("base64");
    const ok = new Unit("oracle", "https://api.s.unit.sh").webhooks.verify(signature, r.secret, JSON.parse(r.body));
    return { headers: { "X-Unit-Signature": signature }, sdk: "@unit-finance/unit-node-sdk webhooks.verify (oracle)", sdk_accepts: ok };
  },
  async privy(r) {
    const key = Buffer.from(r.secret.replace(/^whsec_/, ""), "base64");
    const signature = createHmac("sha256", key).update(`${r.msg_id}.${r.timestamp}.${r.body}`).digest("base64");
    const headers = { "svix-id": r.msg_id, "svix-timestamp": String(r.timestamp), "svix-signature": `v1,${signature}` };
    const client = new PrivyClient({ appId: "oracle", appSecret: "oracle", webhookSigningSecret: r.secret });
    const ok = await accepts(() => client.webhooks().verify({ payload: r.body, headers }));
    return { headers, sdk: "@privy-io/node webhooks().verify (oracle)", sdk_accepts: ok };
  },
  async nango(r) {
    const headers = { "X-Nango-Hmac-Sha256": hmacHex(r.secret, r.body) };
    const ok = new Nango({ apiKey: "oracle", webhookSigningKey: r.secret }).verifyIncomingWebhookRequest(r.body, headers);
    return { headers, sdk: "@nangohq/node verifyIncomingWebhookRequest (oracle)", sdk_accepts: ok };
  },
  async hookdeck(r) {
    const headers = { "x-hookdeck-signature": createHmac("sha256", r.secret).update(r.body).digest("base64"), "x-hookdeck-eventid": r.msg_id };
    const { isValidSignature } = await hookdeckVerify({ headers, rawBody: r.body, signingSecret: r.secret });
    return { headers, sdk: "@hookdeck/sdk verifyWebhookSignature (oracle)", sdk_accepts: isValidSignature };
  },
  async cronofy(r) {
    const signature = createHmac("sha256", r.secret).update(r.body).digest("base64");
    const ok = new Cronofy({ client_id: "oracle", client_secret: r.secret }).hmacValid({ hmac: signature, body: r.body });
    return { headers: { "Cronofy-HMAC-SHA256": signature }, sdk: "cronofy hmacValid (oracle)", sdk_accepts: ok };
  },
  async mailersend(r) {
    const signature = hmacHex(r.secret, r.body);
    const ok = await accepts(() => MailerSendUtils.verifyWebHook(Buffer.from(r.body), signature, r.secret));
    return { headers: { Signature: signature }, sdk: "mailersend MailerSendUtils.verifyWebHook (oracle)", sdk_accepts: ok };
  },
  async surge(r) {
    const key = Buffer.from(r.secret.replace(/^whsec_/, ""), "base64");
    const signature = createHmac("sha256", key).update(`${r.msg_id}.${r.timestamp}.${r.body}`).digest("base64");
    const headers = { "webhook-id": r.msg_id, "webhook-timestamp": String(r.timestamp), "webhook-signature": `v1,${signature}` };
    const surge = new Surge({ apiKey: "oracle", webhookSigningSecret: r.secret });
    const ok = await accepts(() => surge.webhooks.unwrap(r.body, { headers }));
    return { headers, sdk: "@surgeapi/node webhooks.unwrap (oracle)", sdk_accepts: ok };
  },
  async creem(r) {
    const signature = hmacHex(r.secret, r.body);
    const creem = createCreem({ apiKey: "oracle", webhookSecret: r.secret });
    const ok = await accepts(() => creem.webhooks.handleEvents(r.body, signature, {}));
    return { headers: { "creem-signature": signature }, sdk: "creem_io webhooks.handleEvents (oracle)", sdk_accepts: ok };
  },
  async acuity(r) {
    const signature = createHmac("sha256", r.secret).update(r.body).digest("base64");
    const ok = await accepts(() => acuity.verifyMessageSignature(r.secret, r.body, signature));
    return { headers: { "X-Acuity-Signature": signature }, sdk: "acuityscheduling verifyMessageSignature (oracle)", sdk_accepts: ok };
  },
  async "kontent-ai"(r) {
    const signature = createHmac("sha256", r.secret).update(r.body).digest("base64");
    const ok = kontentSignatures.isValidSignatureFromString(r.body, r.secret, signature);
    return { headers: { "X-Kontent-ai-Signature": signature }, sdk: "@kontent-ai/webhook-helper isValidSignatureFromString (oracle)", sdk_accepts: ok };
  },
  async "trigger-dev"(r) {
    // The SDK also parses the alert against its schema, so the body must be a complete alert.
    const signature = hmacHex(r.secret, r.body);
    const ok = await accepts(() => triggerWebhooks.constructEvent({ payload: r.body, header: signature }, r.secret));
    return { headers: { "x-trigger-signature-hmacsha256": signature }, sdk: "@trigger.dev/sdk webhooks.constructEvent (oracle)", sdk_accepts: ok };
  },
  // AWS SNS: an SNS message of `r.kind`, signed as SNS does (SignatureVersion `r.version`),
  // its certificate at `r.cert_url`; sns-validator fetches it and checks the signature.
  async "aws-sns"(r) {
    const m = {
      Type: r.kind,
      MessageId: r.msg_id,
      TopicArn: r.topic,
      Message: r.body,
      Timestamp: new Date(r.timestamp * 1000).toISOString(),
      SignatureVersion: r.version,
      SigningCertURL: r.cert_url,
      UnsubscribeURL: `${r.cert_url}?Action=Unsubscribe`,
    };
    if (r.subject) m.Subject = r.subject;
    const fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
    const signer = createSign(r.version === "1" ? "RSA-SHA1" : "RSA-SHA256");
    for (const f of fields) if (f in m) signer.update(`${f}\n${m[f]}\n`);
    m.Signature = signer.sign(r.private, "base64");
    const ok = await new Promise((resolve) =>
      new SnsValidator(new RegExp(r.host_pattern)).validate({ ...m }, (err) => resolve(!err)),
    );
    return { headers: { "x-amz-sns-message-type": r.kind }, sdk: "sns-validator MessageValidator.validate (oracle)", sdk_accepts: ok, body: JSON.stringify(m) };
  },
};

const b64url = (data) => Buffer.from(data).toString("base64url");
const rs256 = (claims, privatePem, kid) => {
  const input = `${b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(privatePem, "base64url")}`;
};

const tokens = {
  async kinde(r) {
    const token = rs256(r.claims, r.private, r.kid);
    const event = await kindeDecode(token, r.domain).catch(() => null);
    return { token, sdk: "@kinde/webhooks decodeWebhook (oracle)", sdk_accepts: event !== null && event.type === r.claims.type };
  },
  async wix(r) {
    const token = rs256(r.claims, r.private, r.kid);
    const client = createClient({ auth: AppStrategy({ appId: "hookgate-oracle", publicKey: r.public }) });
    const event = await client.webhooks.parseJWT(token).catch(() => null);
    const expected = JSON.parse(r.claims.data).eventType;
    return { token, sdk: "@wix/sdk webhooks.parseJWT (oracle)", sdk_accepts: event !== null && event.eventType === expected };
  },
};

let input = "";
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const ops = { sign: signers, jwt: tokens };
if (!ops[request.op]) throw new Error(`unknown op ${request.op}`);
const results = [];
// Signed at the current time (the SDKs are loaded by now), not at the test's start.
const now = () => (request.op === "sign" ? { timestamp: Math.floor(Date.now() / 1000) } : {});
for (const r of request.requests) results.push(await ops[request.op][r.provider]({ ...r, ...now() }));
process.stdout.write(JSON.stringify({ results }));
